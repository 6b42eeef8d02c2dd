import { type TEpochMetrics, type TExperimentSpec, ZExperimentSpec } from "@actlab/contracts";
import { type Db, startRun, storeEpoch, succeedRun } from "@actlab/db";
import { trainRun } from "@actlab/trainer";

/**
 * Trains a really tiny model with the real trainer and stores it through the run lifecycle, as
 * the worker would: started, its epochs stored, succeeded with its model. (Kept out of
 * helpers.ts so API tests that need no model do not load TensorFlow.js.)
 */
export async function storeTrainedModel(
  db: Db,
  {
    runId,
    spec,
    variantIndex = 0,
    seed,
  }: { runId: string; spec: unknown; variantIndex?: number; seed: number },
) {
  const parsed: TExperimentSpec = ZExperimentSpec.parse(spec);
  const epochs: TEpochMetrics[] = [];
  const result = await trainRun({
    spec: parsed,
    variant: parsed.variants[variantIndex]!,
    seed,
    onEpoch: async (metrics) => {
      epochs.push(metrics);
    },
  });
  const started = await startRun(db, { runId, workerId: "test", backend: "test" });
  if (!started) throw new Error(`run ${runId} is already finished`);
  const attempt = started.attempts;
  for (const metrics of epochs) await storeEpoch(db, { runId, attempt, metrics, checkpoint: null });
  await succeedRun(db, {
    runId,
    attempt,
    artifact: result.artifact!,
    testAccuracy: result.testAccuracy!,
    testLoss: result.testLoss!,
  });
  return result;
}
