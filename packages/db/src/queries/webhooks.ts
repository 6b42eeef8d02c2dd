import type { TWebhookAttempt, TWebhookEventType } from "@actlab/contracts";
import { type Kysely, sql } from "kysely";
import type { Db } from "../client.js";
import type { DB } from "../generated/kysely/types.js";
import { utcNow } from "../timestamps.js";

/** A webhook as its tenant sees it (no secret). */
export interface WebhookRow {
  id: string;
  url: string;
  events: TWebhookEventType[];
  createdAt: Date;
}

const PUBLIC_COLUMNS = ["id", "url", "events", "createdAt"] as const;

export type InsertWebhookOutcome =
  | { kind: "inserted"; webhook: WebhookRow }
  | { kind: "limited"; count: number };

/**
 * Stores a webhook unless the tenant already has `maxPerTenant`. The tenant's row is locked for
 * the check, so two creations at once cannot both squeeze under the limit.
 */
export async function insertWebhook(
  db: Db,
  {
    tenantId,
    url,
    events,
    secret,
    maxPerTenant,
  }: { tenantId: string; url: string; events: TWebhookEventType[]; secret: string; maxPerTenant: number },
): Promise<InsertWebhookOutcome> {
  return db.kysely.transaction().execute(async (trx) => {
    await trx.selectFrom("tenants").select("id").where("id", "=", tenantId).forUpdate().execute();
    const { count } = await trx
      .selectFrom("webhooks")
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .where("tenantId", "=", tenantId)
      .executeTakeFirstOrThrow();
    if (Number(count) >= maxPerTenant) return { kind: "limited", count: Number(count) };
    const row = await trx
      .insertInto("webhooks")
      .values({ id: crypto.randomUUID(), tenantId, url, events, secret, createdAt: utcNow() })
      .returning(PUBLIC_COLUMNS)
      .executeTakeFirstOrThrow();
    return { kind: "inserted", webhook: row as WebhookRow };
  });
}

/** The tenant's webhooks, oldest first. */
export async function listWebhooks(db: Db, tenantId: string): Promise<WebhookRow[]> {
  const rows = await db.kysely
    .selectFrom("webhooks")
    .select(PUBLIC_COLUMNS)
    .where("tenantId", "=", tenantId)
    .orderBy("createdAt")
    .orderBy("id")
    .execute();
  return rows as WebhookRow[];
}

/** Whether the tenant has this webhook. */
export async function findWebhookOfTenant(
  db: Db,
  { tenantId, webhookId }: { tenantId: string; webhookId: string },
): Promise<WebhookRow | undefined> {
  const row = await db.kysely
    .selectFrom("webhooks")
    .select(PUBLIC_COLUMNS)
    .where("id", "=", webhookId)
    .where("tenantId", "=", tenantId)
    .executeTakeFirst();
  return row as WebhookRow | undefined;
}

/** Deletes the tenant's webhook with its delivery log (pending deliveries are then dropped). */
export async function deleteWebhook(
  db: Db,
  { tenantId, webhookId }: { tenantId: string; webhookId: string },
): Promise<boolean> {
  const result = await db.kysely
    .deleteFrom("webhooks")
    .where("id", "=", webhookId)
    .where("tenantId", "=", tenantId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export interface DeliveryRow {
  id: string;
  webhookId: string;
  eventType: TWebhookEventType;
  body: string;
  status: "pending" | "delivered" | "failed";
  attempts: TWebhookAttempt[];
  createdAt: Date;
  finishedAt: Date | null;
}

const DELIVERY_COLUMNS = [
  "id",
  "webhookId",
  "eventType",
  "body",
  "status",
  "attempts",
  "createdAt",
  "finishedAt",
] as const;

/** A webhook's delivery log, newest first. */
export async function listWebhookDeliveries(
  db: Db,
  { webhookId, limit }: { webhookId: string; limit: number },
): Promise<DeliveryRow[]> {
  const rows = await db.kysely
    .selectFrom("webhook_deliveries")
    .select(DELIVERY_COLUMNS)
    .where("webhookId", "=", webhookId)
    .orderBy("createdAt", "desc")
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
  return rows as DeliveryRow[];
}

/**
 * Inside the transaction that stores an event: one pending delivery per webhook of the
 * experiment's tenant that subscribed to `type`, all with the same body. Returns their ids (the
 * caller enqueues a job for each once the transaction committed).
 */
export async function insertDeliveriesForEvent(
  kysely: Kysely<DB>,
  {
    experimentId,
    eventId,
    type,
    body,
  }: { experimentId: string; eventId: string; type: string; body: string },
): Promise<string[]> {
  const at = utcNow();
  const rows = await kysely
    .insertInto("webhook_deliveries")
    .columns(["id", "webhookId", "eventId", "eventType", "body", "createdAt", "updatedAt"])
    .expression((eb) =>
      eb
        .selectFrom("webhooks")
        .innerJoin("experiments", "experiments.tenantId", "webhooks.tenantId")
        .where("experiments.id", "=", experimentId)
        .where(sql<boolean>`${type} = ANY(webhooks.events)`)
        .select([
          sql<string>`gen_random_uuid()`.as("id"),
          "webhooks.id as webhookId",
          sql<string>`${eventId}::bigint`.as("eventId"),
          sql<string>`${type}`.as("eventType"),
          sql<string>`${body}`.as("body"),
          sql<string>`${at}::timestamp`.as("createdAt"),
          sql<string>`${at}::timestamp`.as("updatedAt"),
        ]),
    )
    .onConflict((oc) => oc.columns(["webhookId", "eventId"]).doNothing())
    .returning("id")
    .execute();
  return rows.map((r) => r.id);
}

/** What a delivery job needs: the message, where it goes and the secret to sign it with. */
export interface DeliveryToSend {
  id: string;
  status: DeliveryRow["status"];
  body: string;
  url: string;
  secret: string;
  attempts: number;
}

/** The delivery with its webhook's URL and secret; undefined when it (or its webhook) is gone. */
export async function findDeliveryToSend(db: Db, deliveryId: string): Promise<DeliveryToSend | undefined> {
  const row = await db.kysely
    .selectFrom("webhook_deliveries")
    .innerJoin("webhooks", "webhooks.id", "webhook_deliveries.webhookId")
    .select([
      "webhook_deliveries.id",
      "webhook_deliveries.status",
      "webhook_deliveries.body",
      "webhooks.url",
      "webhooks.secret",
      sql<number>`jsonb_array_length(webhook_deliveries.attempts)`.as("attempts"),
    ])
    .where("webhook_deliveries.id", "=", deliveryId)
    .executeTakeFirst();
  return row as DeliveryToSend | undefined;
}

/**
 * Appends an attempt to a pending delivery's log and, with `status`, ends it (delivered, or
 * failed after its last attempt). A delivery that already ended is left alone. Returns whether it
 * changed the row.
 */
export async function recordDeliveryAttempt(
  db: Db,
  {
    deliveryId,
    attempt,
    status,
  }: { deliveryId: string; attempt: TWebhookAttempt; status: "delivered" | "failed" | null },
): Promise<boolean> {
  const at = utcNow();
  const result = await db.kysely
    .updateTable("webhook_deliveries")
    .set((eb) => ({
      attempts: sql`${eb.ref("attempts")} || jsonb_build_array(${JSON.stringify(attempt)}::jsonb)`,
      updatedAt: at,
      ...(status ? { status, finishedAt: at } : {}),
    }))
    .where("id", "=", deliveryId)
    .where("status", "=", "pending")
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Pending deliveries untouched since `before`, oldest first (the reconciler re-enqueues lost ones). */
export async function findPendingDeliveries(
  db: Db,
  { before, limit }: { before: Date; limit: number },
): Promise<string[]> {
  const rows = await db.webhookDelivery.findMany({
    where: { status: "pending", updatedAt: { lt: before } },
    orderBy: { updatedAt: "asc" },
    take: limit,
    select: { id: true },
  });
  return rows.map((r) => r.id);
}
