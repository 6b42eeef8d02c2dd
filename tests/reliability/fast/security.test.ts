import { describe, expect, it } from "vitest";
import { ROOT } from "../support/paths.js";
import {
  checkAuth,
  checkBogusKeyBurst,
  checkHeaders,
  checkLogs,
  checkRateLimit,
  checkSqlSources,
} from "../support/security.js";
import { inProcessForFile, startInProcess } from "./harness.js";

// The security checks inside `npm test`, against the API in this process over loopback HTTP
// (tests/reliability/scenarios/security.reliability.ts runs the same against the built process).

const api = inProcessForFile("fastsec");

describe("security", () => {
  it("no key, a revoked key or another tenant's key gets nothing, on every route", async () => {
    const r = await checkAuth(api().target, { experimentName: "target" });
    expect(r.violations).toEqual([]);
    expect(r.checked).toBeGreaterThan(80);
  });

  it("security headers on every kind of response", async () => {
    expect((await checkHeaders(api().target)).violations).toEqual([]);
  });

  it("keys never reach the logs (after every route, SSE ?access_token= and failed attempts)", async () => {
    await checkAuth(api().target, { experimentName: "target" });
    await fetch(
      `${api().target.baseUrl}/v1/experiments/${api().target.ids.experiment}/events?access_token=${api().target.key}`,
    ).then((r) => r.text());
    const output = api().logs.join("");
    expect(output.length).toBeGreaterThan(1_000);
    expect(checkLogs(output, api().keys).violations).toEqual([]);
  });

  it("a burst over the rate limit is cut at the limit, per key", async () => {
    const limited = await startInProcess("fastrate", {
      RATE_LIMIT_MAX: "100",
      RATE_LIMIT_WINDOW_MS: "60000",
    });
    try {
      // The bootstrap key has not been used yet, so its whole window is left.
      const r = await checkRateLimit(
        limited.target.baseUrl,
        limited.keys[3]!,
        limited.target.otherKey,
        100,
        400,
      );
      expect(r.violations).toEqual([]);
      expect(r.ok).toBe(100);
    } finally {
      await limited.close();
    }
  });

  it("made-up keys from one address are cut at AUTH_FAILURE_LIMIT; known keys and other addresses unaffected", async () => {
    const guarded = await startInProcess("fastauth", { AUTH_FAILURE_LIMIT: "20" });
    try {
      await fetch(`${guarded.target.baseUrl}/v1/presets`, {
        headers: { authorization: `Bearer ${guarded.target.key}` },
      }).then((r) => r.arrayBuffer());
      const r = await checkBogusKeyBurst(guarded.target.baseUrl, 200, {
        limit: 20,
        from: "127.0.0.2",
        otherFrom: "127.0.0.3",
        validKey: guarded.target.key,
      });
      expect(r.violations).toEqual([]);
      expect([r.unauthorized, r.limited]).toEqual([20, 180]);
    } finally {
      await guarded.close();
    }
  });

  it("no SQL is built from strings outside the reviewed places", () => {
    const r = checkSqlSources(ROOT);
    expect(r.violations).toEqual([]);
    expect(r.files).toBeGreaterThan(20);
  });
});
