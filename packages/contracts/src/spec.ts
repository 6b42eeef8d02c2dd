import { z } from "zod";
import { ZVariant } from "./activations.js";
import { LIMITS } from "./limits.js";

export const DATASET_NAMES = ["mnist", "fashion-mnist", "mnist-full"] as const;
export const ZDatasetName = z.enum(DATASET_NAMES);
export type TDatasetName = z.infer<typeof ZDatasetName>;

const seed = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);

export const ZDatasetSpec = z
  .object({
    name: ZDatasetName.default("mnist"),
    samples: z.number().int().min(LIMITS.minSamples).max(LIMITS.maxSamples).default(10_000),
    testFraction: z.number().min(0.05).max(0.5).default(0.2),
    pixelScale: z.enum(["unit", "raw"]).default("unit"),
    seed: seed.default(1),
  })
  .strict();

export const ZInitializer = z.discriminatedUnion("name", [
  z.object({ name: z.literal("glorot_uniform") }).strict(),
  z.object({ name: z.literal("he_normal") }).strict(),
  z
    .object({
      name: z.literal("truncated_normal"),
      stddev: z.number().gt(0).max(1).default(0.01),
    })
    .strict(),
]);
export type TInitializer = z.infer<typeof ZInitializer>;

export const ZModelSpec = z
  .object({
    hiddenLayers: z.number().int().min(1).max(LIMITS.maxHiddenLayers).default(4),
    units: z.number().int().min(1).max(LIMITS.maxUnits).default(200),
    initializer: ZInitializer.default({ name: "glorot_uniform" }),
  })
  .strict();

/** SGD with momentum's momentum when the spec gives none (Keras' and PyTorch's common choice). */
export const DEFAULT_MOMENTUM = 0.9;

export const ZOptimizer = z
  .object({
    name: z.enum(["sgd", "momentum", "adam"]).default("sgd"),
    learningRate: z.number().gt(0).max(10).default(0.01),
    /**
     * Used by `momentum` only (DEFAULT_MOMENTUM unless given): resolveExperimentRequest stores it
     * for that optimizer and drops it for the others, so a plain-SGD experiment never reads as if
     * it had one. No schema default: parsing a stored spec again must not add one back.
     */
    momentum: z.number().min(0).lt(1).optional(),
  })
  .strict();

export const ZTrainingSpec = z
  .object({
    optimizer: ZOptimizer.prefault({}),
    epochs: z.number().int().min(1).max(LIMITS.maxEpochs).default(30),
    batchSize: z.number().int().min(1).max(LIMITS.maxBatchSize).default(100),
    seed: seed.default(1),
    repeats: z.number().int().min(1).max(LIMITS.maxRepeats).default(3),
  })
  .strict();

export const ZDevice = z.enum(["cpu", "gpu", "any"]);
export type TDevice = z.infer<typeof ZDevice>;

/** The experiment spec exactly as stored: every default filled in. */
export const ZExperimentSpec = z
  .object({
    name: z.string().trim().min(1).max(LIMITS.maxNameLength).default("untitled experiment"),
    dataset: ZDatasetSpec.prefault({}),
    model: ZModelSpec.prefault({}),
    variants: z.array(ZVariant).min(1).max(LIMITS.maxVariants),
    training: ZTrainingSpec.prefault({}),
    device: ZDevice.default("cpu"),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const runs = spec.variants.length * spec.training.repeats;
    if (runs > LIMITS.maxRunsPerExperiment) {
      ctx.addIssue({
        code: "custom",
        path: ["training", "repeats"],
        message: `variants × repeats is ${runs}; at most ${LIMITS.maxRunsPerExperiment} runs per experiment`,
      });
    }
    const train = Math.floor(spec.dataset.samples * (1 - spec.dataset.testFraction));
    if (spec.training.batchSize > train) {
      ctx.addIssue({
        code: "custom",
        path: ["training", "batchSize"],
        message: `batchSize ${spec.training.batchSize} exceeds the ${train} training samples`,
      });
    }
  });
export type TExperimentSpec = z.infer<typeof ZExperimentSpec>;
export type TExperimentSpecInput = z.input<typeof ZExperimentSpec>;

/**
 * Runs with the same repeat index share their seed across variants, so the initial weights
 * and the batch order are the same and variants differ only in their activation.
 */
export function deriveRunSeed(trainingSeed: number, repeat: number): number {
  return (trainingSeed * 1_000_003 + repeat * 7_919) % 2 ** 31;
}
