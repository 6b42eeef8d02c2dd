import autocannon from "autocannon";
import { afterAll, describe, expect, it } from "vitest";
import { parseEnv } from "../../../apps/api/src/env.js";
import { targetOf, validSpec } from "../support/fuzz.js";
import { ROOT } from "../support/paths.js";
import { scenario } from "../support/results.js";
import {
  checkAuth,
  checkBogusKeyBurst,
  checkHeaders,
  checkLogs,
  checkSqlSources,
} from "../support/security.js";
import { type Stack, startStack, waitFor } from "../support/stack.js";

// Security against the built API and a worker: every route without a key, with a revoked key
// (revoked through the operator CLI while the API runs) and with another tenant's key; helmet's
// headers; keys absent from every captured log line of every process; a rate-limit burst driven
// by autocannon; a flood of made-up keys from one address (cut at the default
// AUTH_FAILURE_LIMIT); and where input could reach SQL.

let stack: Stack | undefined;
let limited: Stack | undefined;
/** The documented default, so the scenario shows what an operator gets without setting it. */
const AUTH_FAILURE_LIMIT = parseEnv({}).AUTH_FAILURE_LIMIT;
afterAll(async () => {
  await stack?.stop();
  await limited?.stop();
});

describe("security", () => {
  it("auth on every route, tenant isolation, headers, no keys in logs, rate limit under a burst", async () => {
    await scenario("security", async () => {
      stack = await startStack({
        label: "sec",
        workers: 1,
        apiEnv: { LOG_LEVEL: "debug", AUTH_FAILURE_LIMIT: String(AUTH_FAILURE_LIMIT) },
        workerEnv: { LOG_LEVEL: "debug" },
      });
      const s = stack;
      const other = await s.newKey("other");
      const revoked = await s.newKey("revoked");
      // Used once (so the API caches it), then revoked with the CLI: the running API must drop it at once.
      expect((await s.http("GET", "/v1/presets", { key: revoked.key })).status).toBe(200);
      const cli = await s.revokeKey(revoked.key);
      const revokedStatus = await waitFor(
        async () => ((await s.http("GET", "/v1/presets", { key: revoked.key })).status === 401 ? 401 : null),
        { timeoutMs: 5_000, intervalMs: 100, what: "the revoked key to be refused" },
      );
      const mine = await s.http("POST", "/v1/experiments", { body: validSpec("secret-experiment-name") });
      await s.finished(mine.json().id);
      const theirs = await s.http("POST", "/v1/experiments", { key: other.key, body: validSpec("theirs") });
      const t = targetOf(s, {
        otherKey: other.key,
        revokedKey: revoked.key,
        mine: mine.json(),
        theirs: theirs.json(),
        digest: async () => "",
      });
      const auth = await checkAuth(t, { experimentName: "secret-experiment-name" });
      const headers = await checkHeaders(t);
      // SSE with the key in the query string, as browsers do.
      await s.http("GET", `/v1/experiments/${t.ids.experiment}/events?access_token=${s.apiKey}`, {
        key: null,
      });
      // From 127.0.0.2: the checks above failed from 127.0.0.1, which has its own window.
      const bogus = await checkBogusKeyBurst(s.baseUrl, 1_000, {
        limit: AUTH_FAILURE_LIMIT,
        from: "127.0.0.2",
        otherFrom: "127.0.0.3",
        validKey: s.apiKey,
      });

      // Rate limit: a stack whose limit is 100 per minute, hit by autocannon with 50 connections.
      limited = await startStack({
        label: "rate",
        apiEnv: { RATE_LIMIT_MAX: "100", RATE_LIMIT_WINDOW_MS: "60000" },
      });
      const burstKey = await limited.newKey("burst");
      const otherBurstKey = await limited.newKey("calm");
      const burst = await autocannon({
        url: `${limited.baseUrl}/v1/presets`,
        connections: 50,
        amount: 2_000,
        headers: { authorization: `Bearer ${burstKey.key}` },
      });
      const served = burst.statusCodeStats?.["200"]?.count ?? 0;
      const refused = burst.statusCodeStats?.["429"]?.count ?? 0;
      const calm = await limited.http("GET", "/v1/presets", { key: otherBurstKey.key });
      const probe429 = await limited.http("GET", "/v1/presets", { key: burstKey.key });

      const sqlScan = checkSqlSources(ROOT);
      const output = [s.allOutput(), limited.allOutput(), cli.stdout, cli.stderr].join("\n");
      const logs = checkLogs(output, [s.apiKey, other.key, revoked.key, burstKey.key, otherBurstKey.key]);

      expect(auth.violations).toEqual([]);
      expect(revokedStatus).toBe(401);
      expect(headers.violations).toEqual([]);
      expect(bogus.violations).toEqual([]);
      expect(logs.violations).toEqual([]);
      expect(sqlScan.violations).toEqual([]);
      expect(served).toBe(100);
      expect(served + refused).toBe(2_000);
      expect(calm.status).toBe(200);
      expect(probe429.status).toBe(429);
      expect(probe429.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(Number(probe429.headers.get("retry-after"))).toBeGreaterThan(0);
      return {
        figure:
          `${auth.checked} auth checks (14 routes × no/malformed/Basic/revoked/unknown key → 401; ${auth.isolated} cross-tenant → 404, no data), ` +
          `revoked key refused at once, helmet headers on ${headers.checked} response kinds, 0 keys in ${(logs.bytes / 1024).toFixed(0)} KiB of debug logs, ` +
          `rate limit 100/min: burst of 2,000 (50 conns) → ${served} served + ${refused} × 429, other key unaffected; ` +
          `1,000 made-up keys from one address → ${bogus.unauthorized} × 401 (AUTH_FAILURE_LIMIT ${AUTH_FAILURE_LIMIT}/min) then ${bogus.limited} × 429 ` +
          `(Retry-After ${bogus.retryAfter} s, p99 ${bogus.p99.toFixed(0)} ms), a known key from that address still 200, another address still 401; ` +
          `${sqlScan.queries} SQL strings scanned, 0 built from input`,
      };
    });
  });
});
