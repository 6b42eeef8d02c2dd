import { z } from "zod";
import { ZVariant } from "./activations.js";
import { ZExperimentSpec } from "./spec.js";
import { ZExperimentStatus, ZRunStatus } from "./status.js";

const isoDate = z.string();

export const ZRun = z.object({
  id: z.string(),
  experimentId: z.string(),
  variant: ZVariant,
  repeat: z.number().int(),
  seed: z.number().int(),
  status: ZRunStatus,
  device: z.string(),
  backend: z.string().nullable(),
  attempts: z.number().int(),
  progress: z.object({ epoch: z.number().int(), epochs: z.number().int() }),
  testAccuracy: z.number().nullable(),
  testLoss: z.number().nullable(),
  seconds: z.number().nullable(),
  error: z.string().nullable(),
});
export type TRun = z.infer<typeof ZRun>;

const meanStd = z.object({ mean: z.number().nullable(), std: z.number().nullable() });

export const ZVariantSummary = z.object({
  variant: ZVariant,
  runs: z.number().int(),
  testAccuracy: meanStd,
  testLoss: meanStd,
  seconds: z.object({ mean: z.number().nullable() }),
  gradNormRatio: z.object({ mean: z.number().nullable() }),
});
export type TVariantSummary = z.infer<typeof ZVariantSummary>;

export const ZExperiment = z.object({
  id: z.string(),
  name: z.string(),
  status: ZExperimentStatus,
  createdAt: isoDate,
  startedAt: isoDate.nullable(),
  finishedAt: isoDate.nullable(),
  spec: ZExperimentSpec,
  runs: z.array(ZRun),
  summary: z.array(ZVariantSummary),
  links: z.record(z.string(), z.string()),
});
export type TExperiment = z.infer<typeof ZExperiment>;

const series = z.array(z.number());
const layered = z.array(z.array(z.number()));

export const ZRunSeries = z.object({
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

export const ZMetricsResponse = z.object({
  runs: z.array(
    z.object({
      id: z.string(),
      variant: ZVariant,
      repeat: z.number().int(),
      status: ZRunStatus,
      series: ZRunSeries,
    }),
  ),
});
export type TMetricsResponse = z.infer<typeof ZMetricsResponse>;

/** RFC 9457 problem details; validation problems list each bad field. */
export const ZProblem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type TProblem = z.infer<typeof ZProblem>;
