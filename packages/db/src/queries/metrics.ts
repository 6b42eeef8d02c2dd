import type { TExperimentStatus, TRunStatus } from "@actlab/contracts";
import type { Db } from "../client.js";
import type { EpochMetric } from "../generated/prisma/client.js";

export type EpochMetricRow = Omit<EpochMetric, "createdAt">;

/**
 * The experiment's runs (all, or those of `runIds`), by variant then repeat, with their epochs
 * after `afterEpoch`, ascending.
 */
export async function findRunsWithEpochs(
  db: Db,
  {
    experimentId,
    runIds,
    cell,
    afterEpoch = 0,
  }: {
    experimentId: string;
    runIds?: readonly string[] | undefined;
    /** Only runs whose cell equals this one (jsonb equality: key order and number spelling do not matter). */
    cell?: Record<string, unknown> | undefined;
    afterEpoch?: number;
  },
): Promise<
  Array<{
    id: string;
    variant: unknown;
    cell: unknown;
    repeat: number;
    status: TRunStatus;
    epochs: EpochMetricRow[];
  }>
> {
  const runs = await db.run.findMany({
    where: {
      experimentId,
      ...(runIds?.length ? { id: { in: [...runIds] } } : {}),
      ...(cell ? { cell: { equals: cell as object } } : {}),
    },
    orderBy: [{ cellIndex: "asc" }, { variantIndex: "asc" }, { repeat: "asc" }],
    select: { id: true, variant: true, cell: true, repeat: true, status: true },
  });
  const rows = runs.length
    ? await db.epochMetric.findMany({
        where: { runId: { in: runs.map((r) => r.id) }, epoch: { gt: afterEpoch } },
        orderBy: [{ runId: "asc" }, { epoch: "asc" }],
        omit: { createdAt: true },
      })
    : [];
  const byRun = new Map<string, EpochMetricRow[]>();
  for (const row of rows) {
    const list = byRun.get(row.runId);
    if (list) list.push(row);
    else byRun.set(row.runId, [row]);
  }
  return runs.map((r) => ({ ...r, status: r.status as TRunStatus, epochs: byRun.get(r.id) ?? [] }));
}

/** The ids of the experiment's runs (of one cell, if given), by cell, variant and repeat. */
export async function findRunIds(
  db: Db,
  { experimentId, cell }: { experimentId: string; cell?: Record<string, unknown> | undefined },
): Promise<string[]> {
  const rows = await db.run.findMany({
    where: { experimentId, ...(cell ? { cell: { equals: cell as object } } : {}) },
    orderBy: [{ cellIndex: "asc" }, { variantIndex: "asc" }, { repeat: "asc" }],
    select: { id: true },
  });
  return rows.map((r) => r.id);
}

/**
 * What a report is computed from: the experiment, its runs by variant then repeat, and the
 * epochs' accuracy and per-layer statistics. `tenantId` scopes the lookup (another tenant's
 * experiment is undefined, as one that does not exist); null reads any experiment by id.
 */
export async function findReportRows(db: Db, { id, tenantId }: { id: string; tenantId: string | null }) {
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
  if (!experiment) return undefined;
  const runs = await db.run.findMany({
    where: { experimentId: id },
    orderBy: [{ cellIndex: "asc" }, { variantIndex: "asc" }, { repeat: "asc" }],
    select: {
      id: true,
      cellIndex: true,
      cell: true,
      variantIndex: true,
      repeat: true,
      status: true,
      stoppedEarly: true,
      backend: true,
      epochsCompleted: true,
      testAccuracy: true,
      testLoss: true,
      seconds: true,
      startedAt: true,
      finishedAt: true,
      provenance: true,
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
    experiment: { ...experiment, status: experiment.status as TExperimentStatus },
    runs: runs.map((r) => ({ ...r, status: r.status as TRunStatus })),
    metrics,
  };
}

/** The experiment's runs as an export names them, by cell, then variant, then repeat. */
export async function findRunsToExport(
  db: Db,
  experimentId: string,
): Promise<
  Array<{ id: string; variant: unknown; cell: unknown; repeat: number; seed: number; status: TRunStatus }>
> {
  const rows = await db.kysely
    .selectFrom("runs")
    .select(["id", "variant", "cell", "repeat", "seed", "status"])
    .where("experimentId", "=", experimentId)
    .orderBy("cellIndex")
    .orderBy("variantIndex")
    .orderBy("repeat")
    .execute();
  return rows.map((r) => ({ ...r, status: r.status as TRunStatus }));
}

/** One run's stored epochs, ascending (an export reads them run by run, never all at once). */
export function findEpochsOfRun(db: Db, runId: string): Promise<EpochMetricRow[]> {
  return db.epochMetric.findMany({ where: { runId }, orderBy: { epoch: "asc" }, omit: { createdAt: true } });
}
