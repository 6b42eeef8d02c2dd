import type { TExperimentSpec, TExperimentStatus, TRunStatus } from "@actlab/contracts";
import type { Db } from "@actlab/db";
import type { ReportInput } from "./build.js";

/**
 * Reads what buildReport needs. `tenantId` scopes the lookup (another tenant's experiment is
 * null, as one that does not exist); the CLI passes null to read any experiment by id.
 */
export async function loadReportInput(
  db: Db,
  { id, tenantId }: { id: string; tenantId: string | null },
): Promise<ReportInput | null> {
  const experiment = await db.experiment.findFirst({
    where: { id, ...(tenantId ? { tenantId } : {}) },
    select: {
      id: true,
      name: true,
      status: true,
      spec: true,
      createdAt: true,
      startedAt: true,
      finishedAt: true,
    },
  });
  if (!experiment) return null;
  const runs = await db.run.findMany({
    where: { experimentId: id },
    orderBy: [{ variantIndex: "asc" }, { repeat: "asc" }],
    select: {
      id: true,
      variantIndex: true,
      repeat: true,
      status: true,
      backend: true,
      epochsCompleted: true,
      testAccuracy: true,
      testLoss: true,
      seconds: true,
      startedAt: true,
      finishedAt: true,
    },
  });
  const metrics = runs.length
    ? await db.epochMetric.findMany({
        where: { runId: { in: runs.map((r) => r.id) } },
        orderBy: [{ runId: "asc" }, { epoch: "asc" }],
        select: {
          runId: true,
          epoch: true,
          testAccuracy: true,
          gradNorms: true,
          deadFraction: true,
          saturatedFraction: true,
        },
      })
    : [];
  return {
    experiment: {
      ...experiment,
      status: experiment.status as TExperimentStatus,
      spec: experiment.spec as TExperimentSpec,
    },
    runs: runs.map((r) => ({ ...r, status: r.status as TRunStatus })),
    metrics,
  };
}
