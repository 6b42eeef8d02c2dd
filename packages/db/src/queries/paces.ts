import { sql } from "kysely";
import type { Db } from "../client.js";

/** A recent succeeded run's wall-clock pace, with what the estimate needs to scale it (its spec and cell). */
export interface RunPaceRow {
  backend: string | null;
  /** The median wall-clock seconds between two of its consecutive stored epochs. */
  secondsPerEpoch: number;
  cell: unknown;
  spec: unknown;
}

/**
 * The latest `limit` succeeded runs of at least two epochs requested on these devices (the runs
 * of one queue), newest first, across tenants — the estimate takes only their pace from them —
 * each with the median wall-clock interval between its consecutive stored epochs
 * (epoch_metrics.createdAt): what an epoch really takes on its worker, training, evaluation,
 * diagnostics and storing included, and (the median) not the pause of a run continued later or
 * resumed after a crash. A run's start (loading data, building the model) is not in it. Ordered
 * by updatedAt (a succeeded run's last write is its end) to walk runs(status, updatedAt).
 */
export async function findRecentRunPaces(
  db: Db,
  { devices, limit }: { devices: readonly string[]; limit: number },
): Promise<RunPaceRow[]> {
  const rows = await db.kysely
    .selectFrom("runs as r")
    .innerJoin("experiments as e", "e.id", "r.experimentId")
    .select(["r.backend", "r.cell", "e.spec"])
    .select(
      sql<number | null>`(
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x.gap) FROM (
          SELECT extract(epoch FROM m."createdAt" - lag(m."createdAt") OVER (ORDER BY m.epoch)) AS gap
          FROM epoch_metrics m WHERE m."runId" = r.id
        ) x WHERE x.gap IS NOT NULL
      )`.as("secondsPerEpoch"),
    )
    .where("r.status", "=", "succeeded")
    .where("r.device", "in", [...devices])
    .where("r.epochsCompleted", ">=", 2)
    .orderBy("r.updatedAt", "desc")
    .limit(limit)
    .execute();
  return rows.flatMap((r) =>
    r.secondsPerEpoch !== null && Number(r.secondsPerEpoch) > 0
      ? [{ ...r, secondsPerEpoch: Number(r.secondsPerEpoch) }]
      : [],
  );
}
