import { z } from "zod";
import { ACTIVATIONS } from "./activations.js";
import { experimentHead, ZExperiment, ZVariantSummary } from "./api.js";
import { LIMITS } from "./limits.js";
import { LOSS_ACCURACY_FIELDS } from "./metrics.js";

/*
 * Working with results: continue an experiment, compare experiments, export metrics as CSV
 * (docs/results.md describes each for users).
 */

/** `POST /v1/experiments/:id/continue` body. */
export const ZContinueBody = z.strictObject({
  epochs: z
    .number()
    .int()
    .min(1)
    .max(LIMITS.maxEpochs)
    .describe("the new total of epochs (more than the experiment has; the same again changes nothing)"),
});
export type TContinueBody = z.infer<typeof ZContinueBody>;

/** A run a continue left as it was, and why (failed, canceled, no checkpoint). */
export const ZRunNotContinued = z.strictObject({
  runId: z.string(),
  reason: z.string().describe("why it cannot resume, e.g. the run failed; only succeeded runs can continue"),
});

/**
 * `POST /v1/experiments/:id/continue`'s 202: the experiment, and the runs that stay as they were
 * (in a `partial` or `canceled` experiment the finished runs continue, the others are listed here).
 */
export const ZContinueResponse = ZExperiment.extend({
  notContinued: z
    .array(ZRunNotContinued)
    .describe("the runs that were not continued and why ([] when every run continues)"),
});
export type TContinueResponse = z.infer<typeof ZContinueResponse>;

/** Experiments one compare request may name. */
export const MAX_COMPARED_EXPERIMENTS = 8;

/** One spec field whose value differs between the compared experiments (null: not set there). */
export const ZSpecDifference = z.strictObject({
  path: z.string().describe("dotted spec path, e.g. training.optimizer.learningRate"),
  values: z.array(z.unknown()).describe("one value per experiment, in the order asked for"),
});
export type TSpecDifference = z.infer<typeof ZSpecDifference>;

/** One variant (in one sweep cell) lined up across the experiments by its label. */
export const ZCompareRow = z.strictObject({
  label: z.string().describe("the variant's label, e.g. leaky_relu(alpha=0.01)"),
  cell: z.record(z.string(), z.unknown()).describe("the sweep cell ({} without a sweep)"),
  summaries: z
    .array(ZVariantSummary.nullable())
    .describe("one per experiment, in the order asked for; null where that experiment has no such variant"),
});
export type TCompareRow = z.infer<typeof ZCompareRow>;

/** `GET /v1/compare?experiments=a,b[,…]` */
export const ZCompareResponse = z.strictObject({
  experiments: z.array(
    z.strictObject({
      ...experimentHead,
      runs: z.number().int(),
      /** Runs that succeeded, failed or were canceled. */
      finished: z.number().int(),
    }),
  ),
  differences: z.array(ZSpecDifference).describe("only the spec fields that differ (name excluded)"),
  rows: z.array(ZCompareRow),
});
export type TCompareResponse = z.infer<typeof ZCompareResponse>;

/** Scalar metrics of `GET /v1/experiments/:id/metrics.csv`, in column order. */
export const CSV_SCALAR_COLUMNS = [...LOSS_ACCURACY_FIELDS, "seconds"] as const;

/** Per-layer series of the CSV, in column order: `gradNorm_1…` has one column per weight layer. */
export const CSV_LAYER_SERIES = [
  { column: "gradNorm", field: "gradNorms", layers: "weight" },
  { column: "deadFraction", field: "deadFraction", layers: "hidden" },
  { column: "saturatedFraction", field: "saturatedFraction", layers: "hidden" },
  { column: "preluAlphaMean", field: "preluAlphaMean", layers: "hidden" },
] as const;

/** Every variant parameter name, in the activation table's order (the CSV's parameter columns). */
export function variantParamNames(): string[] {
  const names: string[] = [];
  for (const def of Object.values(ACTIVATIONS)) {
    for (const name of Object.keys(def.params)) if (!names.includes(name)) names.push(name);
  }
  return names;
}

/**
 * The CSV's columns, in their documented order (docs/results.md): run identity, the variant's
 * parameters, the sweep cell, repeat/seed/status, epoch, scalar metrics, then per-layer columns
 * numbered from the input side (`gradNorm_1` … `gradNorm_{hidden+1}`, `deadFraction_1` …).
 */
export function metricsCsvColumns({
  params,
  cellPaths,
  hiddenLayers,
}: {
  /** Parameter names some variant of the experiment has (in variantParamNames order). */
  params: readonly string[];
  /** The sweep's axes ([] without a sweep), as `cell.<path>` columns. */
  cellPaths: readonly string[];
  /** The most hidden layers any run has. */
  hiddenLayers: number;
}): string[] {
  const numbered = (column: string, n: number) => Array.from({ length: n }, (_, i) => `${column}_${i + 1}`);
  return [
    "experimentId",
    "runId",
    "variant",
    "activation",
    ...params,
    ...cellPaths.map((p) => `cell.${p}`),
    "repeat",
    "seed",
    "status",
    "epoch",
    ...CSV_SCALAR_COLUMNS,
    ...CSV_LAYER_SERIES.flatMap((s) =>
      numbered(s.column, s.layers === "weight" ? hiddenLayers + 1 : hiddenLayers),
    ),
  ];
}

/**
 * A download's file name from an experiment's or a chart's title: lower case, digits, dots and
 * dashes only, at most 60 characters (the API's Content-Disposition and the dashboard's saves).
 */
export const fileSlug = (title: string, fallback: string) =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60) || fallback;
