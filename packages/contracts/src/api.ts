import { z } from "zod";
import { ZVariant } from "./activations.js";
import { LIMITS } from "./limits.js";
import { ZProvenance } from "./provenance.js";
import { ZExperimentSpec } from "./spec.js";
import { ZExperimentStatus, ZRunStatus } from "./status.js";
import { ZCell } from "./sweep.js";

/*
 * Every response body of the API, parsed by the route's serializer, by the dashboard and by the
 * tests. Objects are strict: a field the contract does not name is an error wherever it shows up,
 * so a response cannot grow (or leak) a field without this file saying so. RFC 9457 problems are
 * the exception: clients must ignore extension members, so ZProblem lets them through.
 */

const isoDate = z.string();
const progress = z.strictObject({ epoch: z.number().int(), epochs: z.number().int() });
const links = z.record(z.string(), z.string());

/** What the experiment, its list entry and its report all start with. */
export const experimentHead = {
  id: z.string(),
  name: z.string(),
  status: ZExperimentStatus,
  createdAt: isoDate,
  startedAt: isoDate.nullable(),
  finishedAt: isoDate.nullable(),
};

export const ZRun = z.strictObject({
  id: z.string(),
  experimentId: z.string(),
  variant: ZVariant,
  cell: ZCell,
  repeat: z.number().int(),
  seed: z.number().int(),
  status: ZRunStatus,
  /** Early stopping ended it before `progress.epochs` (it still succeeded). */
  stoppedEarly: z.boolean(),
  device: z.string(),
  backend: z.string().nullable(),
  attempts: z.number().int(),
  /** The checkpoint epoch the current attempt started from: 0 from scratch, k > 0 resumed; null before it starts. */
  resumedFromEpoch: z.number().int().nullable(),
  progress,
  testAccuracy: z.number().nullable(),
  testLoss: z.number().nullable(),
  seconds: z.number().nullable(),
  error: z.string().nullable(),
  /** What trained it (versions, backend, CPU, worker); null until a worker started it. */
  provenance: ZProvenance.nullable(),
  /** The run's last write: a stored epoch, or its worker's heartbeat while an epoch trains. */
  updatedAt: isoDate,
  /**
   * Running, but nothing written for longer than the API's RUN_STALE_AFTER_MS: its worker has
   * probably stopped, and another worker will resume it from its checkpoint.
   */
  stale: z.boolean(),
});
export type TRun = z.infer<typeof ZRun>;

/** [lo, hi]: an array of two (a tuple would document as anyOf of two identical schemas). */
const interval = z.array(z.number()).length(2);
const meanStdCi = z.strictObject({
  mean: z.number().nullable(),
  std: z.number().nullable().describe("sample standard deviation over repeats (n − 1); null below 2 runs"),
  ci95: interval
    .nullable()
    .describe(
      "95% interval of the mean: Student t over repeats; for a single run's accuracy the exact binomial interval of its test set",
    ),
});

/** One cell × variant: its succeeded runs' final numbers. */
export const ZVariantSummary = z.strictObject({
  variant: ZVariant,
  cell: ZCell,
  runs: z.number().int(),
  testAccuracy: meanStdCi,
  testLoss: meanStdCi,
  seconds: z.strictObject({ mean: z.number().nullable() }),
  gradNormRatio: z.strictObject({ mean: z.number().nullable() }),
});
export type TVariantSummary = z.infer<typeof ZVariantSummary>;

/**
 * Two variants of one cell on their shared repeats (same seeds): the per-repeat differences
 * a − b of final test accuracy. `pAdjusted` is Holm's over every testable pair of the experiment;
 * `significant` is pAdjusted < 0.05. With fewer than two shared repeats `test` is "untestable".
 */
export const ZComparison = z.strictObject({
  cell: ZCell,
  a: ZVariant,
  b: ZVariant,
  repeats: z.number().int().describe("shared succeeded repeats compared"),
  meanDifference: z.number().nullable().describe("mean of a − b, accuracy fraction"),
  ci95: interval.nullable().describe("paired-t 95% interval of the mean difference"),
  bootstrapCi95: interval.nullable().describe("percentile bootstrap over repeats (seeded)"),
  pValue: z.number().nullable().describe("two-sided paired t-test"),
  wilcoxonPValue: z.number().nullable().describe("two-sided exact Wilcoxon signed-rank, from 6 repeats on"),
  pAdjusted: z.number().nullable().describe("Holm-adjusted over the experiment's pairs"),
  significant: z.boolean(),
  test: z.enum(["paired-t", "untestable"]),
});
export type TComparison = z.infer<typeof ZComparison>;

/** `POST /v1/experiments` (202), `GET /v1/experiments/:id`, `POST /v1/experiments/:id/cancel` */
export const ZExperiment = z.strictObject({
  ...experimentHead,
  spec: ZExperimentSpec,
  runs: z.array(ZRun),
  summary: z.array(ZVariantSummary),
  comparisons: z.array(ZComparison),
  links,
});
export type TExperiment = z.infer<typeof ZExperiment>;

export const ZExperimentListItem = z.strictObject({
  ...experimentHead,
  /** Runs per status (only statuses with runs). */
  runCounts: z.record(z.string(), z.number().int()),
  /** Epochs done and planned, summed over the runs. */
  progress,
  /** The variant with the highest mean test accuracy over its succeeded runs; null before any succeeds. */
  best: z.strictObject({ variant: ZVariant, testAccuracy: z.number() }).nullable(),
  links,
});
export type TExperimentListItem = z.infer<typeof ZExperimentListItem>;

/**
 * The orders of `GET /v1/experiments` (`sort=`). `accuracy`: the best variant's mean test accuracy
 * (the list's `best`), highest first; experiments without one follow (ties in id order).
 */
export const EXPERIMENT_SORTS = ["newest", "oldest", "name", "accuracy"] as const;
export type TExperimentSort = (typeof EXPERIMENT_SORTS)[number];

/** `GET /v1/experiments`: newest first; pass `nextCursor` as `cursor` for the next page. */
export const ZExperimentList = z.strictObject({
  items: z.array(ZExperimentListItem),
  nextCursor: z.string().nullable(),
});
export type TExperimentList = z.infer<typeof ZExperimentList>;

const series = z.array(z.number());
const layered = z.array(z.array(z.number()));

export const ZRunSeries = z.strictObject({
  epoch: z.array(z.number().int()),
  trainLoss: series.optional(),
  trainAccuracy: series.optional(),
  testLoss: series.optional(),
  testAccuracy: series.optional(),
  gradNorms: layered.optional(),
  deadFraction: layered.optional(),
  saturatedFraction: layered.optional(),
  preluAlphaMean: layered.nullable().optional(),
  seconds: series.optional(),
});
export type TRunSeries = z.infer<typeof ZRunSeries>;

/** `GET /v1/experiments/:id/metrics` */
export const ZMetricsResponse = z.strictObject({
  runs: z.array(
    z.strictObject({
      id: z.string(),
      variant: ZVariant,
      cell: ZCell,
      repeat: z.number().int(),
      status: ZRunStatus,
      series: ZRunSeries,
    }),
  ),
});
export type TMetricsResponse = z.infer<typeof ZMetricsResponse>;

const pixel = z.number().describe("finite; in the training pixel scale unless pixelScale says otherwise");
const ZImage = z.union([z.array(pixel).length(784), z.array(z.array(pixel).length(28)).length(28)]);

/** `POST /v1/runs/:id/predict` body (unknown fields are dropped, as they always were here). */
export const ZPredictBody = z.object({
  inputs: z.array(ZImage).min(1).max(LIMITS.maxPredictBatch).describe("784 values or 28×28 rows per image"),
  pixelScale: z
    .enum(["unit", "raw"])
    .optional()
    .describe("scale of these inputs (unit = 0–1, raw = 0–255); converted to the run's training scale"),
});
export type TPredictBody = z.infer<typeof ZPredictBody>;

/** `POST /v1/runs/:id/predict` */
export const ZPrediction = z.strictObject({
  runId: z.string(),
  probabilities: z.array(z.array(z.number())),
  classes: z.array(z.number().int()).describe("argmax of each row"),
});
export type TPrediction = z.infer<typeof ZPrediction>;

/** `GET /v1/runs/:id/model/model.json`: TensorFlow.js layers format, for tf.loadLayersModel. */
export const ZModelJson = z.strictObject({
  format: z.string(),
  generatedBy: z.string(),
  convertedBy: z.null(),
  modelTopology: z.unknown(),
  weightsManifest: z.array(z.strictObject({ paths: z.array(z.string()), weights: z.unknown() })),
});
export type TModelJson = z.infer<typeof ZModelJson>;

/** `GET /healthz` */
export const ZHealth = z.strictObject({ status: z.literal("ok") });

/** `GET /readyz` (200 ready, 503 unavailable) */
export const ZReady = z.strictObject({
  status: z.enum(["ready", "unavailable"]),
  checks: z.strictObject({ postgres: z.string(), redis: z.string() }),
  detail: z.string().optional(),
});
export type TReady = z.infer<typeof ZReady>;

/** RFC 9457 problem details; validation problems list each bad field. */
export const ZProblem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type TProblem = z.infer<typeof ZProblem>;
