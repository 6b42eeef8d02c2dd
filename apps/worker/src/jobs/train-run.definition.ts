import {
  TRAINING_GPU_QUEUE,
  TRAINING_JOB_NAME,
  TRAINING_JOB_OPTIONS,
  TRAINING_QUEUE,
  ZTrainingJob,
} from "@actlab/queue";
import type { WorkerOptions } from "bullmq";
import type { TEnv } from "../env.js";

/**
 * The training job: its name, payload schema and retry policy (shared with the API's producer
 * through @actlab/queue), the queues a worker of each device consumes, and the worker's lock
 * and stalled-job settings (see env.ts for why they restart a killed run within 60 s).
 */
export const trainRunJob = {
  name: TRAINING_JOB_NAME,
  payload: ZTrainingJob,
  options: TRAINING_JOB_OPTIONS,
  /** First queue first: a GPU worker prefers GPU runs and takes CPU runs only when idle. */
  queuesFor(device: "cpu" | "gpu"): string[] {
    return device === "gpu" ? [TRAINING_GPU_QUEUE, TRAINING_QUEUE] : [TRAINING_QUEUE];
  },
  workerOptions(env: TEnv): Omit<WorkerOptions, "connection"> {
    return {
      prefix: env.QUEUE_PREFIX,
      // One run at a time per process: the process has one training thread.
      concurrency: 1,
      lockDuration: env.WORKER_LOCK_DURATION_MS,
      stalledInterval: env.WORKER_STALLED_INTERVAL_MS,
      maxStalledCount: env.WORKER_MAX_STALLED_COUNT,
      // The handler's result is small; keep BullMQ's own bookkeeping bounded.
      removeOnComplete: TRAINING_JOB_OPTIONS.removeOnComplete,
      removeOnFail: TRAINING_JOB_OPTIONS.removeOnFail,
    };
  },
} as const;
