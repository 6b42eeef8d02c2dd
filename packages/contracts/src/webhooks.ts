import { z } from "zod";
import { ZExperimentFinishedData, ZRunFailedData } from "./events.js";

/*
 * Webhooks: a tenant's URL that receives some of its experiments' events as Standard Webhooks
 * messages (https://www.standardwebhooks.com): POSTed JSON `{ type, timestamp, data }`, signed
 * with the webhook's secret. `data` is the event's, as the SSE stream sends it.
 */

/** The events a webhook can subscribe to (a subset of EVENT_TYPES: the ones worth a call). */
export const WEBHOOK_EVENT_TYPES = ["experiment.finished", "run.failed"] as const;
export const ZWebhookEventType = z.enum(WEBHOOK_EVENT_TYPES);
export type TWebhookEventType = z.infer<typeof ZWebhookEventType>;

export const WEBHOOK_LIMITS = {
  /** Webhooks per tenant. */
  maxPerTenant: 20,
  maxUrlLength: 2_048,
} as const;

/** `POST /v1/webhooks` body. */
export const ZCreateWebhookBody = z.strictObject({
  url: z
    .string()
    .max(WEBHOOK_LIMITS.maxUrlLength)
    .url()
    .regex(/^https?:\/\//i, "must be an http or https URL")
    .describe("where deliveries are POSTed; http(s) only, no redirects followed"),
  events: z
    .array(ZWebhookEventType)
    .min(1)
    .max(WEBHOOK_EVENT_TYPES.length)
    .refine((e) => new Set(e).size === e.length, "must not repeat an event")
    .describe("which events to deliver"),
});
export type TCreateWebhookBody = z.infer<typeof ZCreateWebhookBody>;

const isoDate = z.string();

/** A webhook as `GET /v1/webhooks` lists it: never its secret. */
export const ZWebhook = z.strictObject({
  id: z.string(),
  url: z.string(),
  events: z.array(ZWebhookEventType),
  createdAt: isoDate,
});
export type TWebhook = z.infer<typeof ZWebhook>;

/** `POST /v1/webhooks` (201): the only time the signing secret is shown. */
export const ZCreatedWebhook = z.strictObject({
  ...ZWebhook.shape,
  secret: z.string().describe("Standard Webhooks signing secret (whsec_…); shown once, keep it"),
});
export type TCreatedWebhook = z.infer<typeof ZCreatedWebhook>;

export const ZWebhookList = z.strictObject({ items: z.array(ZWebhook) });
export type TWebhookList = z.infer<typeof ZWebhookList>;

/** The body of a delivery: `webhook-id` header = the delivery's id. */
export const ZWebhookMessage = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("experiment.finished"),
    timestamp: isoDate,
    data: ZExperimentFinishedData,
  }),
  z.strictObject({ type: z.literal("run.failed"), timestamp: isoDate, data: ZRunFailedData }),
]);
export type TWebhookMessage = z.infer<typeof ZWebhookMessage>;

export const ZWebhookDeliveryStatus = z.enum(["pending", "delivered", "failed"]);

/** One attempt to deliver a message. */
export const ZWebhookAttempt = z.strictObject({
  at: isoDate,
  statusCode: z.number().int().nullable().describe("the receiver's answer; null when none came"),
  error: z.string().nullable(),
  durationMs: z.number().int(),
});
export type TWebhookAttempt = z.infer<typeof ZWebhookAttempt>;

/** An entry of the delivery log: one message to one webhook and every attempt to send it. */
export const ZWebhookDelivery = z.strictObject({
  id: z.string().describe("the webhook-id header (the same on every retry)"),
  webhookId: z.string(),
  eventType: ZWebhookEventType,
  status: ZWebhookDeliveryStatus.describe("pending while attempts remain, then delivered or failed"),
  attempts: z.array(ZWebhookAttempt),
  message: ZWebhookMessage,
  createdAt: isoDate,
  finishedAt: isoDate.nullable(),
});
export type TWebhookDelivery = z.infer<typeof ZWebhookDelivery>;

/** `GET /v1/webhooks/:id/deliveries`: newest first. */
export const ZWebhookDeliveryList = z.strictObject({ items: z.array(ZWebhookDelivery) });
export type TWebhookDeliveryList = z.infer<typeof ZWebhookDeliveryList>;
