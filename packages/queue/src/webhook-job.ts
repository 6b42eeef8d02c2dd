import type { Queue } from "bullmq";
import { z } from "zod";
import { type ProducerOptions, producerQueue } from "./producer-queue.js";

/** Webhook deliveries, consumed by every worker process beside its training. */
export const WEBHOOK_QUEUE = "webhooks";
export const WEBHOOK_JOB_NAME = "deliver-webhook";

/** One delivery (a webhook_deliveries row): everything else is read from Postgres by its id. */
export const ZWebhookJob = z.object({ deliveryId: z.uuid() });
export type TWebhookJob = z.infer<typeof ZWebhookJob>;

/** The backoff type the consumer's backoffStrategy answers (its delays are the consumer's setting). */
export const WEBHOOK_BACKOFF = "webhook";

/**
 * Eight attempts; the consumer spaces them exponentially (WEBHOOK_RETRY_BASE_MS × 2^n: with the
 * default 5 s the last one comes ~10 minutes after the first). A refused target fails at once.
 */
export const WEBHOOK_JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: WEBHOOK_BACKOFF },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export interface WebhookProducer {
  queue: Queue;
  /** One job per delivery with jobId = delivery id, so enqueueing one twice is a no-op. */
  enqueueDeliveries(deliveryIds: readonly string[]): Promise<void>;
  /**
   * Of these deliveries, those whose job BullMQ has given up on (state failed), with its reason:
   * a delivery still pending then had its last outcome lost (its worker stopped before recording
   * it, or the record failed), and nothing will attempt it again.
   */
  abandonedDeliveries(deliveryIds: readonly string[]): Promise<Map<string, string>>;
  close(): Promise<void>;
}

export function createWebhookProducer(options: ProducerOptions): WebhookProducer {
  const queue = producerQueue(WEBHOOK_QUEUE, options);
  return {
    queue,
    async enqueueDeliveries(deliveryIds) {
      if (!deliveryIds.length) return;
      await queue.addBulk(
        deliveryIds.map((deliveryId) => ({
          name: WEBHOOK_JOB_NAME,
          data: { deliveryId } satisfies TWebhookJob,
          opts: { ...WEBHOOK_JOB_OPTIONS, jobId: deliveryId },
        })),
      );
    },
    async abandonedDeliveries(deliveryIds) {
      // All at once: the reconciler asks about every delivery pending for a while (those waiting
      // out their backoff too), and one round trip each in turn would add up.
      const jobs = await Promise.all(
        deliveryIds.map(async (id) => {
          const job = await queue.getJob(id);
          return job && (await job.getState()) === "failed" ? job : null;
        }),
      );
      return new Map(
        jobs.flatMap((job) => (job?.id ? [[job.id, job.failedReason || "job failed"] as const] : [])),
      );
    },
    close: () => queue.close(),
  };
}
