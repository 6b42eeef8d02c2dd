import { describe, expect, it } from "vitest";
import { describeFailures, fuzz } from "../support/fuzz.js";
import { inProcessForFile } from "./harness.js";

// The reduced fuzz inside `npm test`: a few hundred generated requests (FUZZ_RUNS to change) at
// the API in this process; the full ≥ 5,000-case run against the built API process is
// tests/reliability/scenarios/fuzz.reliability.ts. FUZZ_SEED replays a run.

const api = inProcessForFile("fastfuzz");

describe("fuzzing every endpoint (reduced)", () => {
  it("no 5xx, every error problem+json, rejected requests change nothing", async () => {
    const stats = await fuzz(api().target, {
      numRuns: Number(process.env.FUZZ_RUNS ?? 300),
      ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}),
    });
    process.stdout.write(
      `fuzz (fast, seed ${stats.seed}): ${stats.cases} cases, statuses ${JSON.stringify(stats.byStatus)}, p99 ${stats.p99Ms.toFixed(0)} ms\n` +
        (stats.failures.length ? `failures:\n${describeFailures(stats.failures)}\n` : ""),
    );
    expect(stats.failures.map((f) => f.signature)).toEqual([]);
    expect(stats.cases).toBeGreaterThanOrEqual(300);
    // The generator reaches past authentication and validation, not just 401s.
    expect(stats.byStatus["200"] ?? 0).toBeGreaterThan(10);
    expect(stats.byStatus["400"] ?? 0).toBeGreaterThan(10);
    expect(api().logs.filter((l) => l.includes('"level":50'))).toEqual([]);
  }, 120_000);
});
