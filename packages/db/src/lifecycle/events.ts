import type { TExperimentEvent } from "@actlab/contracts";
import type { Db } from "../client.js";
import { utcNow } from "../timestamps.js";
import { type LifecycleContext, retrying } from "./context.js";

export interface StoredEvent {
  id: string;
  type: TExperimentEvent["type"];
  data: TExperimentEvent["data"];
}

/**
 * Stores an experiment event and returns it with its id. The id (a global sequence, so it
 * increases within every experiment) is the SSE `id:` that Last-Event-ID resumes from.
 */
export async function recordEvent(
  db: Db,
  experimentId: string,
  event: TExperimentEvent,
): Promise<StoredEvent> {
  const row = await db.kysely
    .insertInto("experiment_events")
    .values({ experimentId, type: event.type, data: JSON.stringify(event.data), createdAt: utcNow() })
    .returning("id")
    .executeTakeFirstOrThrow();
  return { id: String(row.id), type: event.type, data: event.data };
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
 * Stores an event, then publishes it. Postgres is the record: a failed or slow publish loses only
 * the live copy (it is logged), and SSE streams replay stored events.
 */
export async function emitEvent(
  ctx: LifecycleContext,
  experimentId: string,
  event: TExperimentEvent,
): Promise<StoredEvent> {
  const stored = await retrying(ctx, () => recordEvent(ctx.db, experimentId, event));
  try {
    await ctx.publish(experimentId, stored);
  } catch (err) {
    ctx.log.warn({ err, experimentId, type: event.type }, "live event not published (it is stored)");
  }
  return stored;
}
