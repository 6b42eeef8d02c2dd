import { type TExperimentSpec, ZExperimentSpec } from "@actlab/contracts";
import type { Db } from "@actlab/db";
import { trainRun } from "@actlab/trainer";

/**
 * Trains a really tiny model with the real trainer and stores it, with the run succeeded, as the
 * worker would. (Kept out of helpers.ts so API tests that need no model do not load TensorFlow.js.)
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
  const result = await trainRun({
    spec: parsed,
    variant: parsed.variants[variantIndex]!,
    seed,
    onEpoch: async () => {},
  });
  const a = result.artifact!;
  await db.modelArtifact.create({
    data: {
      runId,
      topology: a.topology,
      weightSpecs: a.weightSpecs,
      weights: new Uint8Array(a.weights),
      sha256: a.sha256,
      sizeBytes: a.weights.byteLength,
    },
  });
  await db.run.update({
    where: { id: runId },
    data: {
      status: "succeeded",
      testAccuracy: result.testAccuracy,
      testLoss: result.testLoss,
      epochsCompleted: 1,
    },
  });
  return result;
}
