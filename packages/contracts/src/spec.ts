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

/**
 * Stop a run once its test loss has not improved by more than `minDelta` for `patience` epochs
 * in a row (useful in big sweeps: a run that has stopped learning frees its worker). A run that
 * stops early succeeds with `stoppedEarly: true` and fewer epochs.
 */
export const ZEarlyStopping = z
  .object({
    metric: z.literal("testLoss").default("testLoss"),
    patience: z.number().int().min(1).max(LIMITS.maxEpochs).default(3),
    minDelta: z.number().min(0).max(10).default(0),
  })
  .strict();
export type TEarlyStopping = z.infer<typeof ZEarlyStopping>;

export const ZTrainingSpec = z
  .object({
    optimizer: ZOptimizer.prefault({}),
    epochs: z.number().int().min(1).max(LIMITS.maxEpochs).default(30),
    batchSize: z.number().int().min(1).max(LIMITS.maxBatchSize).default(100),
    seed: seed.default(1),
    repeats: z.number().int().min(1).max(LIMITS.maxRepeats).default(3),
    earlyStopping: ZEarlyStopping.nullable().default(null),
  })
  .strict();

export const ZDevice = z.enum(["cpu", "gpu", "any"]);
export type TDevice = z.infer<typeof ZDevice>;

/** One axis of a sweep: the values a spec path takes, each once. */
const axis = <T extends z.ZodType>(value: T) =>
  z
    .array(value)
    .min(1)
    .max(LIMITS.maxSweepValues)
    .superRefine((values, ctx) => {
      const seen = new Set(values.map((v) => JSON.stringify(v)));
      if (seen.size !== values.length) ctx.addIssue({ code: "custom", message: "lists a value twice" });
    })
    .optional();

/**
 * `sweep`: dotted spec paths → the values each takes. The experiment's cells are the cartesian
 * product of the axes (sweep.ts expands them); each value is checked as the field it replaces.
 */
export const ZSweep = z
  .strictObject(
    {
      "model.hiddenLayers": axis(ZModelSpec.shape.hiddenLayers.unwrap()),
      "model.units": axis(ZModelSpec.shape.units.unwrap()),
      "model.initializer": axis(ZInitializer),
      "training.optimizer": axis(ZOptimizer),
      "training.optimizer.learningRate": axis(ZOptimizer.shape.learningRate.unwrap()),
      "training.batchSize": axis(ZTrainingSpec.shape.batchSize.unwrap()),
      "dataset.pixelScale": axis(ZDatasetSpec.shape.pixelScale.unwrap()),
    },
    {
      error: (i) =>
        i.code === "unrecognized_keys"
          ? `not a sweepable path: ${i.keys.join(", ")} (see SWEEP_PATHS)`
          : undefined,
    },
  )
  .superRefine((sweep, ctx) => {
    if (sweep["training.optimizer"] && sweep["training.optimizer.learningRate"])
      ctx.addIssue({
        code: "custom",
        path: ["training.optimizer.learningRate"],
        message: "sweep either training.optimizer (whole objects) or its learningRate, not both",
      });
  });
export type TSweep = z.infer<typeof ZSweep>;
export type TSweepPath = keyof TSweep;
export const SWEEP_PATHS = Object.keys(ZSweep.shape) as TSweepPath[];

/** How many cells (combinations of swept values) a sweep makes: 1 without a sweep. */
export function countCells(sweep: TSweep): number {
  return Object.values(sweep).reduce((n, values) => n * (values?.length ?? 1), 1);
}

/** The experiment spec exactly as stored: every default filled in. */
export const ZExperimentSpec = z
  .object({
    name: z
      .string()
      .trim()
      .min(1)
      .max(LIMITS.maxNameLength)
      // Postgres text and jsonb cannot hold U+0000: stored as it was, the name made a 500 (fuzz).
      .refine((s) => !s.includes("\u0000"), "must not contain the NUL character (U+0000)")
      .default("untitled experiment"),
    dataset: ZDatasetSpec.prefault({}),
    model: ZModelSpec.prefault({}),
    variants: z.array(ZVariant).min(1).max(LIMITS.maxVariants),
    training: ZTrainingSpec.prefault({}),
    sweep: ZSweep.default({}),
    device: ZDevice.default("cpu"),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const cells = countCells(spec.sweep);
    const runs = cells * spec.variants.length * spec.training.repeats;
    if (runs > LIMITS.maxRunsPerExperiment) {
      ctx.addIssue({
        code: "custom",
        path: cells > 1 ? ["sweep"] : ["training", "repeats"],
        message:
          `this request makes ${runs} runs (${cells > 1 ? `${cells} cells × ` : ""}${spec.variants.length} variants × ` +
          `${spec.training.repeats} repeats); at most ${LIMITS.maxRunsPerExperiment} runs per experiment`,
      });
    }
    const { train } = splitSizes(spec.dataset);
    for (const batchSize of spec.sweep["training.batchSize"] ?? [spec.training.batchSize]) {
      if (batchSize > train) {
        ctx.addIssue({
          code: "custom",
          path: spec.sweep["training.batchSize"]
            ? ["sweep", "training.batchSize"]
            : ["training", "batchSize"],
          message: `batchSize ${batchSize} exceeds the ${train} training samples`,
        });
      }
    }
  });
export type TExperimentSpec = z.infer<typeof ZExperimentSpec>;
export type TExperimentSpecInput = z.input<typeof ZExperimentSpec>;

/** The train/test split of a dataset spec: the first floor(samples·(1−testFraction)) train. */
export function splitSizes(dataset: { samples: number; testFraction: number }): {
  train: number;
  test: number;
} {
  const train = Math.floor(dataset.samples * (1 - dataset.testFraction));
  return { train, test: dataset.samples - train };
}

/**
 * Runs with the same repeat index share their seed across variants, so the initial weights
 * and the batch order are the same and variants differ only in their activation.
 */
export function deriveRunSeed(trainingSeed: number, repeat: number): number {
  return (trainingSeed * 1_000_003 + repeat * 7_919) % 2 ** 31;
}
