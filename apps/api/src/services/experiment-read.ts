import type { TExperiment, TExperimentStatus } from "@actlab/contracts";
import { type Db, findExperimentOfTenant, findExperimentWithRuns, findLatestGradNorms } from "@actlab/db";
import { notFound } from "../errors.js";
import { DEFAULT_RUN_STALE_AFTER_MS, toExperimentDto } from "./experiment-view.js";
import { isUuid } from "./uuid.js";

/** An experiment id as a tenant asks for it. */
interface TenantExperiment {
  db: Db;
  tenantId: string;
  id: string;
}

/** One experiment of the tenant with its runs and summary (one query, plus one once runs have trained). */
export async function getExperiment({
  db,
  tenantId,
  id,
  staleAfterMs = DEFAULT_RUN_STALE_AFTER_MS,
}: TenantExperiment & { staleAfterMs?: number }): Promise<TExperiment> {
  if (!isUuid(id)) throw notFound("experiment", id);
  const exp = await findExperimentWithRuns(db, { id, tenantId });
  if (!exp) throw notFound("experiment", id);
  const trained = exp.runs.filter((r) => r.epochsCompleted > 0).map((r) => r.id);
  const gradNorms = await findLatestGradNorms(db, trained);
  return toExperimentDto(exp, exp.runs, gradNorms, { staleAfterMs, now: Date.now() });
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
