import { type Db, findDeliveryToSend, recordDeliveryAttempt } from "@actlab/db";
import { sendWebhook, type TargetPolicy } from "@actlab/webhooks";
import { type Job, UnrecoverableError } from "bullmq";
import type { Logger } from "pino";
import { deliverWebhookJob } from "./deliver-webhook.definition.js";

export interface DeliverWebhookContext {
  db: Db;
  logger: Logger;
  policy: TargetPolicy;
  timeoutMs: number;
}

export type DeliverWebhookOutcome = { outcome: "delivered" | "skipped"; reason?: string };

/**
 * Sends one delivery and logs the attempt on its row. A 2xx ends it as delivered; a refused
 * target as failed at once; anything else throws so BullMQ retries it with backoff, and the last
 * attempt ends it as failed. A delivery that ended already, or whose webhook was deleted, is skipped.
 */
export async function handleDeliverWebhook(
  job: Job,
  ctx: DeliverWebhookContext,
): Promise<DeliverWebhookOutcome> {
  const payload = deliverWebhookJob.payload.safeParse(job.data);
  if (!payload.success) throw new UnrecoverableError(`invalid webhook job payload: ${payload.error.message}`);
  const { deliveryId } = payload.data;
  const delivery = await findDeliveryToSend(ctx.db, deliveryId);
  if (!delivery) return { outcome: "skipped", reason: "delivery or webhook no longer exists" };
  if (delivery.status !== "pending")
    return { outcome: "skipped", reason: `delivery is already ${delivery.status}` };

  const at = new Date();
  const result = await sendWebhook({
    url: delivery.url,
    secret: delivery.secret,
    id: delivery.id,
    body: delivery.body,
    policy: ctx.policy,
    timeoutMs: ctx.timeoutMs,
    now: () => at,
  });
  const last = result.refused || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  const status = result.ok ? "delivered" : last ? "failed" : null;
  await recordDeliveryAttempt(ctx.db, {
    deliveryId,
    attempt: {
      at: at.toISOString(),
      statusCode: result.statusCode,
      error: result.error,
      durationMs: result.durationMs,
    },
    status,
  });
  const log = ctx.logger.child({ deliveryId, attempt: job.attemptsMade + 1 });
  if (result.ok) {
    log.debug({ statusCode: result.statusCode, durationMs: result.durationMs }, "webhook delivered");
    return { outcome: "delivered" };
  }
  log.warn({ error: result.error, statusCode: result.statusCode, final: last }, "webhook attempt failed");
  if (result.refused) throw new UnrecoverableError(result.error ?? "target refused");
  throw new Error(result.error ?? "delivery failed");
}
