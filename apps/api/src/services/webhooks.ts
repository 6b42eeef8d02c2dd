import {
  type TCreatedWebhook,
  type TCreateWebhookBody,
  type TWebhook,
  type TWebhookDelivery,
  type TWebhookMessage,
  WEBHOOK_LIMITS,
} from "@actlab/contracts";
import {
  type Db,
  type DeliveryRow,
  findWebhookOfTenant,
  insertWebhook,
  listWebhookDeliveries,
  type WebhookRow,
} from "@actlab/db";
import { createSecret, type TargetPolicy, targetProblem } from "@actlab/webhooks";
import { AppError, notFound } from "../errors.js";
import { isUuid } from "./uuid.js";

const toWebhookDto = (w: WebhookRow): TWebhook => ({
  id: w.id,
  url: w.url,
  events: w.events,
  createdAt: w.createdAt.toISOString(),
});

const toDeliveryDto = (d: DeliveryRow): TWebhookDelivery => ({
  id: d.id,
  webhookId: d.webhookId,
  eventType: d.eventType,
  status: d.status,
  attempts: d.attempts,
  message: JSON.parse(d.body) as TWebhookMessage,
  createdAt: d.createdAt.toISOString(),
  finishedAt: d.finishedAt?.toISOString() ?? null,
});

/**
 * Makes a webhook with a new signing secret, which only this answer shows. A URL that is an
 * address the workers would refuse (WEBHOOK_ALLOWED_HOSTS) is a 400 now rather than a failed
 * delivery later; names are checked on every delivery, against what they resolve to then.
 */
export async function createWebhook({
  db,
  tenantId,
  body,
  policy,
}: {
  db: Db;
  tenantId: string;
  body: TCreateWebhookBody;
  policy: TargetPolicy;
}): Promise<TCreatedWebhook> {
  const problem = targetProblem(body.url, policy);
  if (problem) {
    throw new AppError("validation", `url ${problem}`, { errors: [{ path: "url", message: problem }] });
  }
  const secret = createSecret();
  const outcome = await insertWebhook(db, {
    tenantId,
    url: body.url,
    events: body.events,
    secret,
    maxPerTenant: WEBHOOK_LIMITS.maxPerTenant,
  });
  if (outcome.kind === "limited") {
    throw new AppError(
      "conflict",
      `a tenant has at most ${WEBHOOK_LIMITS.maxPerTenant} webhooks; delete one first`,
    );
  }
  return { ...toWebhookDto(outcome.webhook), secret };
}

export const webhookList = (rows: WebhookRow[]) => ({ items: rows.map(toWebhookDto) });

/** The webhook's delivery log, newest first; 404 unless the tenant has the webhook. */
export async function webhookDeliveries({
  db,
  tenantId,
  webhookId,
  limit,
}: {
  db: Db;
  tenantId: string;
  webhookId: string;
  limit: number;
}): Promise<{ items: TWebhookDelivery[] }> {
  if (!isUuid(webhookId) || !(await findWebhookOfTenant(db, { tenantId, webhookId }))) {
    throw notFound("webhook", webhookId);
  }
  const rows = await listWebhookDeliveries(db, { webhookId, limit });
  return { items: rows.map(toDeliveryDto) };
}
