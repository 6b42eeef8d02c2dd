import { z } from "zod";

/** What the trainer measures at the end of every epoch (1-based). */
export const ZEpochMetrics = z.object({
  epoch: z.number().int().min(1),
  trainLoss: z.number(),
  trainAccuracy: z.number(),
  testLoss: z.number(),
  testAccuracy: z.number(),
  /** L2 norm of each layer's kernel gradient on the probe batch, input side first (hidden layers + output). */
  gradNorms: z.array(z.number()),
  /** Per hidden layer: fraction of units never active on the probe batch (ReLU-like). */
  deadFraction: z.array(z.number()),
  /** Per hidden layer: fraction of units whose |f′| is tiny on the whole probe batch (sigmoid/tanh). */
  saturatedFraction: z.array(z.number()),
  /** Per hidden layer: the mean learned PReLU slope; null for other activations. */
  preluAlphaMean: z.array(z.number()).nullable(),
  seconds: z.number(),
});
export type TEpochMetrics = z.infer<typeof ZEpochMetrics>;

/** The loss and accuracy of an epoch on both splits: one number each. */
export const LOSS_ACCURACY_FIELDS = ["trainLoss", "trainAccuracy", "testLoss", "testAccuracy"] as const;

export const METRIC_FIELDS = [
  ...LOSS_ACCURACY_FIELDS,
  "gradNorms",
  "deadFraction",
  "saturatedFraction",
  "preluAlphaMean",
  "seconds",
] as const;
export const ZMetricField = z.enum(METRIC_FIELDS);
export type TMetricField = z.infer<typeof ZMetricField>;
