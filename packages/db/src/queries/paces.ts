import type { Db } from "../client.js";

/** A recent succeeded run's training time, with what the estimate needs to scale it (its spec and cell). */
export interface RunPaceRow {
  backend: string | null;
  seconds: number;
  epochsCompleted: number;
  cell: unknown;
  spec: unknown;
}

/**
 * The latest `limit` succeeded runs requested on these devices (the runs of one queue), newest
 * first, across tenants: the estimate takes only their pace from them. Ordered by updatedAt (a
 * succeeded run's last write is its end) to walk runs(status, updatedAt) instead of sorting them all.
 */
export async function findRecentRunPaces(
  db: Db,
  { devices, limit }: { devices: readonly string[]; limit: number },
): Promise<RunPaceRow[]> {
  const rows = await db.kysely
    .selectFrom("runs as r")
    .innerJoin("experiments as e", "e.id", "r.experimentId")
    .select(["r.backend", "r.seconds", "r.epochsCompleted", "r.cell", "e.spec"])
    .where("r.status", "=", "succeeded")
    .where("r.device", "in", [...devices])
    .where("r.seconds", ">", 0)
    .where("r.epochsCompleted", ">", 0)
    .orderBy("r.updatedAt", "desc")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...r, seconds: r.seconds ?? 0 }));
}
