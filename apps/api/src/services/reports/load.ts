import type { TExperimentSpec, TProvenance } from "@actlab/contracts";
import { type Db, findReportRows } from "@actlab/db";
import type { ReportInput } from "./build.js";

/**
 * Reads what buildReport needs. `tenantId` scopes the lookup (another tenant's experiment is
 * null, as one that does not exist); the CLI passes null to read any experiment by id.
 */
export async function loadReportInput(
  db: Db,
  { id, tenantId }: { id: string; tenantId: string | null },
): Promise<ReportInput | null> {
  const rows = await findReportRows(db, { id, tenantId });
  if (!rows) return null;
  return {
    ...rows,
    experiment: { ...rows.experiment, spec: rows.experiment.spec as TExperimentSpec },
    runs: rows.runs.map((r) => ({ ...r, provenance: r.provenance as TProvenance | null })),
  };
}
