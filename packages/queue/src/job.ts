import { z } from "zod";

/** The one job type: train one run. Everything else is read from Postgres by run id. */
export const ZTrainingJob = z.object({
  runId: z.uuid(),
  experimentId: z.uuid(),
});
export type TTrainingJob = z.infer<typeof ZTrainingJob>;

export const TRAINING_JOB_NAME = "train-run";

/**
 * Retries cover transient failures (a database or Redis blip, a worker that died); a bad spec
 * fails at once through BullMQ's UnrecoverableError in the worker.
 */
export const TRAINING_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: "exponential" as const, delay: 2_000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};
