import type { TExperiment, TExperimentSpec, TExperimentStatus } from "@actlab/contracts";
import { type Db, findExperimentOfTenant, findExperimentWithRuns, findLatestGradNorms } from "@actlab/db";
import { notFound } from "../errors.js";
import { experimentStatistics } from "./experiment-statistics.js";
import { DEFAULT_RUN_STALE_AFTER_MS, toExperimentDto } from "./experiment-view.js";
import { isUuid } from "./uuid.js";

/** An experiment id as a tenant asks for it. */
interface TenantExperiment {
  db: Db;
  tenantId: string;
  id: string;
}

/**
 * One experiment of the tenant with its runs and statistics: one query, plus one for the runs'
 * latest epochs when statistics of some cells must be computed again (experiment-statistics.ts).
 */
export async function getExperiment({
  db,
  tenantId,
  id,
  staleAfterMs = DEFAULT_RUN_STALE_AFTER_MS,
}: TenantExperiment & { staleAfterMs?: number }): Promise<TExperiment> {
  if (!isUuid(id)) throw notFound("experiment", id);
  const exp = await findExperimentWithRuns(db, { id, tenantId });
  if (!exp) throw notFound("experiment", id);
  // The query orders the runs by cell, variant and repeat, as the statistics group them.
  const statistics = await experimentStatistics(exp.id, exp.spec as TExperimentSpec, exp.runs, (runIds) =>
    // Every run's latest epoch in one statement when all are asked for (an empty list means all).
    findLatestGradNorms(db, exp.id, runIds.length === exp.runs.length ? [] : runIds),
  );
  return toExperimentDto(exp, exp.runs, statistics, { staleAfterMs, now: Date.now() });
}

/** Throws 404 unless the experiment exists and belongs to the tenant. */
export async function assertExperimentVisible({
  db,
  tenantId,
  id,
}: TenantExperiment): Promise<{ id: string; status: TExperimentStatus }> {
  if (!isUuid(id)) throw notFound("experiment", id);
  const exp = await findExperimentOfTenant(db, { id, tenantId });
  if (!exp) throw notFound("experiment", id);
  return exp;
}
