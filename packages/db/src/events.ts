import type { TExperimentEvent } from "@actlab/contracts";
import type { Db } from "./client.js";

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
  const row = await db.experimentEvent.create({
    data: { experimentId, type: event.type, data: event.data as object },
    select: { id: true },
  });
  return { id: row.id.toString(), type: event.type, data: event.data };
}

/** Events after `afterId` (exclusive), oldest first. */
export async function eventsSince(
  db: Db,
  experimentId: string,
  afterId: string | null,
  limit = 1000,
): Promise<StoredEvent[]> {
  const rows = await db.experimentEvent.findMany({
    where: { experimentId, ...(afterId ? { id: { gt: BigInt(afterId) } } : {}) },
    orderBy: { id: "asc" },
    take: limit,
  });
  return rows.map((r) => ({
    id: r.id.toString(),
    type: r.type as TExperimentEvent["type"],
    data: r.data as TExperimentEvent["data"],
  }));
}
