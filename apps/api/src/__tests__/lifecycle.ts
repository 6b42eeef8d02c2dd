import { type Db, refreshExperimentStatus, startRun, storeEpoch, succeedRun } from "@actlab/db";

/** Epoch `e` of a run whose numbers are distinct per run (k), so a row can be traced to its run. */
const epochMetrics = (e: number, k: number) => ({
  epoch: e,
  trainLoss: 1 / e + k,
  trainAccuracy: 0.1 * e,
  testLoss: 2 / e + k,
  testAccuracy: 0.05 * e + k / 100,
  gradNorms: [0.001 * e, 0.01 * e, 0.1 * e],
  deadFraction: [0, 0.5],
  saturatedFraction: [0.25, 0],
  preluAlphaMean: null,
  seconds: 0.5,
});

/**
 * Trains nothing: moves the runs through the lifecycle as a worker would, epochs 1…n with a
 * checkpoint each, then succeeds each with `accuracy(k)` (the k-th run given; 0.9 by default).
 */
export async function finishRuns(
  db: Db,
  exp: { id: string; runs: ReadonlyArray<{ id: string }> },
  { epochs = 2, accuracy = () => 0.9 }: { epochs?: number; accuracy?: (k: number) => number } = {},
) {
  for (const [k, run] of exp.runs.entries()) {
    const started = await startRun(db, { runId: run.id, workerId: "test", backend: "test" });
    const attempt = started!.attempts;
    for (let e = 1; e <= epochs; e++) {
      await storeEpoch(db, {
        runId: run.id,
        attempt,
        metrics: epochMetrics(e, k),
        checkpoint: { epoch: e, weights: new Uint8Array([e]), state: {} },
      });
    }
    await succeedRun(db, {
      runId: run.id,
      attempt,
      artifact: { topology: {}, weightSpecs: [], weights: new Uint8Array([1]), sha256: "x" },
      testAccuracy: accuracy(k),
      testLoss: 0.1,
    });
  }
  await refreshExperimentStatus(db, exp.id);
}
