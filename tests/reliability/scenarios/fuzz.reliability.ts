import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { describeFailures, digestOf, fuzz, targetOf, validSpec } from "../support/fuzz.js";
import { scenario } from "../support/results.js";
import { type Stack, startStack } from "../support/stack.js";

// Bad input: ≥ 5,000 generated requests (FUZZ_RUNS) at the built API process, over HTTP, across
// every endpoint's body, path parameter, query string and headers (oversized and deep JSON, wrong
// content types, unicode, huge numbers, NaN/Infinity in predict inputs). A worker trains the run
// whose model /predict uses, then stops, so nothing but the fuzzed requests touches the database.

let stack: Stack | undefined;
let sql: pg.Pool | undefined;
afterAll(async () => {
  await sql?.end();
  await stack?.stop();
});

describe("bad input: property-based fuzzing of every endpoint", () => {
  it("≥ 5,000 cases: zero 5xx, every error problem+json, rejected requests leave the database unchanged", async () => {
    await scenario("bad input (fuzz)", async () => {
      stack = await startStack({ label: "fuzz", workers: 1 });
      const s = stack;
      const other = await s.newKey("other");
      const revoked = await s.newKey("revoked");
      await s.revokeKey(revoked.prefix);
      const mine = await s.http("POST", "/v1/experiments", { body: validSpec("target") });
      expect(mine.status).toBe(202);
      await s.finished(mine.json().id);
      for (const w of s.workers) w.kill("SIGTERM");
      await Promise.all(s.workers.map((w) => w.exited));
      const theirs = await s.http("POST", "/v1/experiments", { key: other.key, body: validSpec("theirs") });
      expect(theirs.status).toBe(202);

      sql = new pg.Pool({ connectionString: s.databaseUrl, max: 2 });
      const numRuns = Number(process.env.FUZZ_RUNS ?? 5_000);
      const stats = await fuzz(
        targetOf(s, {
          otherKey: other.key,
          revokedKey: revoked.key,
          mine: mine.json(),
          theirs: theirs.json(),
          digest: digestOf(sql),
        }),
        { numRuns, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) },
      );
      const statuses = Object.entries(stats.byStatus)
        .map(([k, v]) => `${v}×${k}`)
        .join(" ");
      process.stdout.write(
        `fuzz: seed ${stats.seed}, ${stats.cases} cases (${statuses}), ${stats.rejectedMutations} rejected writes checked, p99 ${stats.p99Ms.toFixed(0)} ms\n` +
          (stats.failures.length ? `failures:\n${describeFailures(stats.failures)}\n` : ""),
      );
      const errorsLogged = s.api.logs.filter((l) => l.level >= 50);
      expect(s.api.alive()).toBe(true);
      expect(stats.cases).toBeGreaterThanOrEqual(numRuns);
      expect(
        stats.failures.map((f) => `${f.count}× ${f.signature}`),
        describeFailures(stats.failures),
      ).toEqual([]);
      expect(errorsLogged.map((l) => l.msg)).toEqual([]);
      return {
        figure:
          `${stats.cases} cases over HTTP (${statuses}): 0 × 5xx, every error problem+json, ` +
          `${stats.rejectedMutations} rejected writes left the database unchanged, p99 ${stats.p99Ms.toFixed(0)} ms, seed ${stats.seed}`,
        details: stats as unknown as Record<string, unknown>,
      };
    });
  });
});
