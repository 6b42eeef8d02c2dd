import { type TExperimentEvent, WEBHOOK_EVENT_TYPES } from "@actlab/contracts";
import type { Db } from "../client.js";
import { insertDeliveriesForEvent } from "../queries/webhooks.js";
import { utcNow } from "../timestamps.js";
import { type LifecycleContext, retrying } from "./context.js";

export interface StoredEvent {
  id: string;
  type: TExperimentEvent["type"];
  data: TExperimentEvent["data"];
}

const isWebhookEvent = (type: string) => (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type);

/**
 * Stores an experiment event and returns it with its id. The id (a global sequence, so it
 * increases within every experiment) is the SSE `id:` that Last-Event-ID resumes from.
 */
export async function recordEvent(
  db: Db,
  experimentId: string,
  event: TExperimentEvent,
): Promise<StoredEvent> {
  return (await recordEventWithDeliveries(db, experimentId, event)).stored;
}

/**
 * Stores the event and, for an event webhooks subscribe to, in the same transaction one pending
 * delivery per subscribed webhook of the tenant (a Standard Webhooks message `{ type, timestamp,
 * data }`): a delivery exists exactly when its event does, whatever happens to the process next.
 * Epoch events, the many, stay one plain insert.
 */
async function recordEventWithDeliveries(
  db: Db,
  experimentId: string,
  event: TExperimentEvent,
): Promise<{ stored: StoredEvent; deliveryIds: string[] }> {
  const createdAt = utcNow();
  const values = { experimentId, type: event.type, data: JSON.stringify(event.data), createdAt };
  if (!isWebhookEvent(event.type)) {
    const row = await db.kysely
      .insertInto("experiment_events")
      .values(values)
      .returning("id")
      .executeTakeFirstOrThrow();
    return { stored: { id: String(row.id), type: event.type, data: event.data }, deliveryIds: [] };
  }
  return db.kysely.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto("experiment_events")
      .values(values)
      .returning("id")
      .executeTakeFirstOrThrow();
    const body = JSON.stringify({ type: event.type, timestamp: createdAt, data: event.data });
    const deliveryIds = await insertDeliveriesForEvent(trx, {
      experimentId,
      eventId: String(row.id),
      type: event.type,
      body,
    });
    return { stored: { id: String(row.id), type: event.type, data: event.data }, deliveryIds };
  });
}

/** Events after `afterId` (exclusive), oldest first. */
export async function eventsSince(
  db: Db,
  experimentId: string,
  afterId: string | null,
  limit = 1000,
): Promise<StoredEvent[]> {
  const rows = await db.kysely
    .selectFrom("experiment_events")
    .select(["id", "type", "data"])
    .where("experimentId", "=", experimentId)
    .$if(afterId !== null, (q) => q.where("id", ">", afterId!))
    .orderBy("id")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: String(r.id),
    type: r.type as TExperimentEvent["type"],
    data: r.data as TExperimentEvent["data"],
  }));
}

/**
 * Stores an event (with its webhook deliveries), then publishes it and enqueues the deliveries.
 * Postgres is the record: a failed or slow publish loses only the live copy (it is logged), and
 * SSE streams replay stored events; a delivery that could not be enqueued stays pending, and the
 * reconciler enqueues it later.
 */
export async function emitEvent(
  ctx: LifecycleContext,
  experimentId: string,
  event: TExperimentEvent,
): Promise<StoredEvent> {
  const { stored, deliveryIds } = await retrying(ctx, () =>
    recordEventWithDeliveries(ctx.db, experimentId, event),
  );
  try {
    await ctx.publish(experimentId, stored);
  } catch (err) {
    ctx.log.warn({ err, experimentId, type: event.type }, "live event not published (it is stored)");
  }
  if (deliveryIds.length) {
    try {
      await ctx.deliver(deliveryIds);
    } catch (err) {
      ctx.log.warn(
        { err, experimentId, type: event.type, deliveries: deliveryIds.length },
        "webhook deliveries not enqueued (they are stored; the reconciler enqueues them)",
      );
    }
  }
  return stored;
}
