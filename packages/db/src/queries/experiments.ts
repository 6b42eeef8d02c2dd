import type { TExperimentStatus } from "@actlab/contracts";
import { jsonArrayFrom } from "kysely/helpers/postgres";
import type { Db } from "../client.js";
import type { Prisma } from "../generated/prisma/client.js";
import { preparedQuery } from "../prepared.js";
import { RUN_VIEW_COLUMNS, type RunView } from "./runs.js";

export interface ExperimentView {
  id: string;
  name: string;
  status: TExperimentStatus;
  spec: unknown;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** By cell, then variant, then repeat. */
  runs: RunView[];
}

const selectExperimentWithRuns = preparedQuery((kysely, args: { id: string; tenantId: string }) =>
  kysely
    .selectFrom("experiments as e")
    .select(["e.id", "e.name", "e.status", "e.spec", "e.createdAt", "e.startedAt", "e.finishedAt"])
    .select((eb) =>
      jsonArrayFrom(
        eb
          .selectFrom("runs")
          .select(RUN_VIEW_COLUMNS.map((c) => `runs.${c}` as const))
          .whereRef("runs.experimentId", "=", "e.id")
          .orderBy("runs.cellIndex")
          .orderBy("runs.variantIndex")
          .orderBy("runs.repeat"),
      ).as("runs"),
    )
    .where("e.id", "=", args.id)
    .where("e.tenantId", "=", args.tenantId),
);

/** One experiment of the tenant with its runs, in one query (the API's hottest read). */
export async function findExperimentWithRuns(
  db: Db,
  { id, tenantId }: { id: string; tenantId: string },
): Promise<ExperimentView | undefined> {
  const [row] = await selectExperimentWithRuns(db.kysely, { id, tenantId });
  return row;
}

/** The experiment's id and status if it exists and belongs to the tenant. */
export function findExperimentOfTenant(
  db: Db,
  { id, tenantId }: { id: string; tenantId: string },
): Promise<{ id: string; status: TExperimentStatus } | undefined> {
  return db.kysely
    .selectFrom("experiments")
    .select(["id", "status"])
    .where("id", "=", id)
    .where("tenantId", "=", tenantId)
    .executeTakeFirst();
}

/** The experiment's status, or undefined once it is deleted. */
export async function findExperimentStatus(db: Db, id: string): Promise<TExperimentStatus | undefined> {
  const row = await db.kysely
    .selectFrom("experiments")
    .select("status")
    .where("id", "=", id)
    .executeTakeFirst();
  return row?.status;
}

export interface ExperimentListRow {
  id: string;
  name: string;
  status: TExperimentStatus;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Per status of its runs: how many, and their epochs done and planned. */
  runGroups: Array<{ status: string; runs: number; epochsCompleted: number; epochs: number }>;
}

/**
 * A page of the tenant's experiments, newest first: keyset pagination on (createdAt, id) so
 * pages never skip or repeat rows. Reads one row more than `limit`, so `more` says whether
 * another page follows.
 */
export async function listExperimentsPage(
  db: Db,
  {
    tenantId,
    statuses,
    limit,
    before,
  }: {
    tenantId: string;
    statuses?: readonly TExperimentStatus[] | undefined;
    limit: number;
    /** The (createdAt, id) of the previous page's last item. */
    before?: { createdAt: Date; id: string } | undefined;
  },
): Promise<{ rows: ExperimentListRow[]; more: boolean }> {
  const where: Prisma.ExperimentWhereInput = { tenantId };
  if (statuses?.length) where.status = { in: [...statuses] };
  if (before) {
    where.OR = [
      { createdAt: { lt: before.createdAt } },
      { createdAt: before.createdAt, id: { lt: before.id } },
    ];
  }
  const found = await db.experiment.findMany({
    where,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit + 1,
    select: { id: true, name: true, status: true, createdAt: true, startedAt: true, finishedAt: true },
  });
  const page = found.slice(0, limit);
  const groups = page.length
    ? await db.run.groupBy({
        by: ["experimentId", "status"],
        where: { experimentId: { in: page.map((r) => r.id) } },
        _count: { _all: true },
        _sum: { epochs: true, epochsCompleted: true },
      })
    : [];
  return {
    rows: page.map((r) => ({
      ...r,
      runGroups: groups
        .filter((g) => g.experimentId === r.id)
        .map((g) => ({
          status: g.status,
          runs: g._count._all,
          epochsCompleted: g._sum.epochsCompleted ?? 0,
          epochs: g._sum.epochs ?? 0,
        })),
    })),
    more: found.length > limit,
  };
}

/** Ids of the experiment's runs that are queued or running. */
export async function findOpenRuns(
  db: Db,
  experimentId: string,
): Promise<Array<{ id: string; status: "queued" | "running" }>> {
  const rows = await db.kysely
    .selectFrom("runs")
    .select(["id", "status"])
    .where("experimentId", "=", experimentId)
    .where("status", "in", ["queued", "running"])
    .execute();
  return rows as Array<{ id: string; status: "queued" | "running" }>;
}

/** Deletes the experiment with its runs, metrics, checkpoints, models and events (foreign keys cascade). */
export async function deleteExperimentRows(db: Db, id: string): Promise<void> {
  await db.kysely.deleteFrom("experiments").where("id", "=", id).execute();
}
