import { z } from "zod";
import { ZVariant } from "./activations.js";
import { experimentHead, ZComparison } from "./api.js";
import { ZChapterFigure } from "./presets.js";
import { ZProvenance } from "./provenance.js";
import { ZCell } from "./sweep.js";

/** `GET /v1/experiments/:id/report` (JSON): the chapter-style comparison of an experiment's variants. */

const ZMeanStd = z.strictObject({
  mean: z.number().nullable(),
  std: z.number().nullable().describe("sample standard deviation over repeats (n − 1); null for n < 2"),
});

export const ZVariantReport = z.strictObject({
  variant: ZVariant,
  cell: ZCell,
  label: z.string(),
  runs: z.strictObject({
    total: z.number().int(),
    succeeded: z.number().int(),
    byStatus: z.record(z.string(), z.number().int()),
  }),
  /** Epochs the reported numbers cover (the fewest any succeeded run completed). */
  epochs: z.number().int().nullable(),
  testAccuracy: ZMeanStd.extend({
    values: z.array(z.number()).describe("final test accuracy of each succeeded run, by repeat"),
    ci95: z
      .array(z.number())
      .length(2)
      .nullable()
      .describe("t interval over repeats; a single run's is the binomial interval of its test set"),
  }),
  testLoss: ZMeanStd,
  chapter: z.array(ZChapterFigure).describe("the chapter's figures for this activation (may be empty)"),
  epochsTo90: z.strictObject({
    mean: z.number().nullable().describe("mean over the runs that reached 90% test accuracy"),
    reached: z.number().int(),
    of: z.number().int(),
    values: z.array(z.number().int().nullable()).describe("per run, first epoch at ≥ 90% (null: never)"),
  }),
  seconds: z.strictObject({
    mean: z.number().nullable().describe("training seconds per run (summed over epochs)"),
    perEpoch: z.number().nullable(),
  }),
  gradNorms: z
    .array(z.number())
    .describe("per layer (input side first, output last), geometric mean over runs at the final epoch"),
  gradNormRatio: z.strictObject({
    geomean: z.number().nullable().describe("first layer's gradient norm / last layer's, final epoch"),
    values: z.array(z.number()),
  }),
  deadFraction: z
    .number()
    .nullable()
    .describe("ReLU-like activations: mean fraction of hidden units never active on the probe batch"),
  saturatedFraction: z.number().nullable(),
  gradientVerdict: z.string().nullable().describe("what the first/last gradient ratio says, in words"),
  verdict: z.string(),
});
export type TVariantReport = z.infer<typeof ZVariantReport>;

/** One set-up that trained some of the runs: a provenance without its worker, with how many runs and where. */
export const ZReportProvenance = ZProvenance.omit({ worker: true }).extend({
  runs: z.number().int(),
  workers: z.number().int().describe("distinct worker processes"),
  hosts: z.array(z.string()),
});
export type TReportProvenance = z.infer<typeof ZReportProvenance>;

export const ZReport = z.strictObject({
  experiment: z.strictObject({
    ...experimentHead,
    wallSeconds: z.number().nullable().describe("first run started → last run finished"),
  }),
  setup: z.strictObject({
    dataset: z.string(),
    samples: z.number().int(),
    train: z.number().int(),
    test: z.number().int(),
    pixelScale: z.enum(["unit", "raw"]),
    network: z.string(),
    sweep: z.string().nullable().describe('the swept paths and their values, e.g. "layers ∈ {1, 2, 4}"'),
    initializer: z.string(),
    optimizer: z.string(),
    epochs: z.number().int(),
    batchSize: z.number().int(),
    repeats: z.number().int(),
    backends: z.array(z.string()),
    code: z.enum(["keras", "tf"]).nullable().describe("which of the chapter's codes this setup matches"),
  }),
  /** One entry per cell × variant, cells in sweep order. */
  variants: z.array(ZVariantReport),
  /** Every pair of variants within each cell on shared seeds (paired t, bootstrap, Holm over all pairs). */
  comparisons: z.array(ZComparison.extend({ statement: z.string() })),
  cells: z.array(
    z.strictObject({
      cell: ZCell,
      label: z.string().describe('swept values, e.g. "layers=4"; "" without a sweep'),
      leader: z.string().nullable().describe("best variant, only when significantly better than every other"),
      statement: z.string(),
    }),
  ),
  provenance: z
    .array(ZReportProvenance)
    .describe(
      "what trained the runs: one entry per distinct set-up (code, engine, Node, CPU), most runs first",
    ),
  notes: z.array(z.string()),
});
export type TReport = z.infer<typeof ZReport>;
