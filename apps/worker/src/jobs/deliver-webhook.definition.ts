import {
  WEBHOOK_BACKOFF,
  WEBHOOK_JOB_NAME,
  WEBHOOK_JOB_OPTIONS,
  WEBHOOK_QUEUE,
  ZWebhookJob,
} from "@actlab/queue";
import type { WorkerOptions } from "bullmq";
import type { TEnv } from "../env.js";

/** Longest wait between two attempts, however many came before. */
const MAX_RETRY_DELAY_MS = 3_600_000;

/**
 * The webhook delivery job: its name, payload schema and attempts (shared with the producers
 * through @actlab/queue), and the consumer's settings. The retry delays are the consumer's
 * (WEBHOOK_RETRY_BASE_MS × 2^(attempt − 1)), so the API and the workers enqueue alike.
 */
export const deliverWebhookJob = {
  name: WEBHOOK_JOB_NAME,
  queue: WEBHOOK_QUEUE,
  payload: ZWebhookJob,
  options: WEBHOOK_JOB_OPTIONS,
  workerOptions(env: TEnv): Omit<WorkerOptions, "connection"> {
    return {
      prefix: env.QUEUE_PREFIX,
      concurrency: env.WEBHOOK_CONCURRENCY,
      // An attempt is bounded by WEBHOOK_TIMEOUT_MS; the lock only has to outlast it.
      lockDuration: Math.max(30_000, env.WEBHOOK_TIMEOUT_MS * 3),
      removeOnComplete: WEBHOOK_JOB_OPTIONS.removeOnComplete,
      removeOnFail: WEBHOOK_JOB_OPTIONS.removeOnFail,
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string) =>
          type === WEBHOOK_BACKOFF
            ? Math.min(MAX_RETRY_DELAY_MS, env.WEBHOOK_RETRY_BASE_MS * 2 ** Math.max(0, attemptsMade - 1))
            : -1,
      },
    };
  },
} as const;
