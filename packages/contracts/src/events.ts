import { z } from "zod";
import { ZVariant } from "./activations.js";
import { ZEpochMetrics } from "./metrics.js";
import { ZExperimentStatus } from "./status.js";

/** Server-Sent Event names, exactly as they appear on the wire (`event:` line). */
export const EVENT_TYPES = [
  "run.started",
  "run.epoch",
  "run.finished",
  "run.failed",
  "run.canceled",
  "experiment.finished",
] as const;

const runRef = { experimentId: z.string(), runId: z.string() };

export const ZRunStartedData = z.object({
  ...runRef,
  variant: ZVariant,
  repeat: z.number().int(),
  attempt: z.number().int(),
  backend: z.string(),
  device: z.string(),
  resumedFromEpoch: z.number().int(),
});
export const ZRunEpochData = z.object({
  ...runRef,
  epochs: z.number().int(),
  metrics: ZEpochMetrics,
});
export const ZRunFinishedData = z.object({
  ...runRef,
  testAccuracy: z.number(),
  testLoss: z.number(),
  seconds: z.number(),
});
export const ZRunFailedData = z.object({ ...runRef, error: z.string() });
export const ZRunCanceledData = z.object({ ...runRef });
export const ZExperimentFinishedData = z.object({
  experimentId: z.string(),
  status: ZExperimentStatus,
});

export const ZExperimentEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("run.started"), data: ZRunStartedData }),
  z.object({ type: z.literal("run.epoch"), data: ZRunEpochData }),
  z.object({ type: z.literal("run.finished"), data: ZRunFinishedData }),
  z.object({ type: z.literal("run.failed"), data: ZRunFailedData }),
  z.object({ type: z.literal("run.canceled"), data: ZRunCanceledData }),
  z.object({ type: z.literal("experiment.finished"), data: ZExperimentFinishedData }),
]);
export type TExperimentEvent = z.infer<typeof ZExperimentEvent>;
