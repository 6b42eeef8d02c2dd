import type { TExperimentSort, TExperimentStatus } from "@actlab/contracts";
import { sql } from "kysely";
import { jsonArrayFrom } from "kysely/helpers/postgres";
import type { Db } from "../client.js";
import { preparedQuery } from "../prepared.js";
import { utcTimestamp } from "../timestamps.js";
import { RUN_VIEW_COLUMNS, type RunView } from "./runs.js";

/** An experiment's own columns, as the read and the list select them. */
interface ExperimentColumns {
  id: string;
  name: string;
  status: TExperimentStatus;
  spec: unknown;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

const EXPERIMENT_COLUMNS = [
  "e.id",
  "e.name",
  "e.status",
  "e.spec",
  "e.createdAt",
  "e.startedAt",
  "e.finishedAt",
] as const satisfies readonly `e.${keyof ExperimentColumns}`[];

export interface ExperimentView extends ExperimentColumns {
  /** By cell, then variant, then repeat. */
  runs: RunView[];
}

const selectExperimentWithRuns = preparedQuery((kysely, args: { id: string; tenantId: string }) =>
  kysely
    .selectFrom("experiments as e")
    .select(EXPERIMENT_COLUMNS)
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
  const row = await db.experiment.findUnique({ where: { id }, select: { status: true } });
  return row?.status;
}

export interface ExperimentListRow extends ExperimentColumns {
  /** The key of the `name` order (Postgres' lower(name), which the keyset compares). */
  nameKey: string;
  /** The key of the `accuracy` order (BEST_ACCURACY), read only when the list is in that order. */
  accuracyKey?: number;
  /** Per status of its runs: how many, and their epochs done and planned. */
  runGroups: Array<{ status: string; runs: number; epochsCompleted: number; epochs: number }>;
  /** Mean test accuracy of each variant (by its index in the spec) over its succeeded runs. */
  variantAccuracy: Array<{ variantIndex: number; mean: number }>;
}

/** The list's orders (EXPERIMENT_SORTS); each is a keyset on (key, id), so pages never skip or repeat rows. */
export type ExperimentSort = TExperimentSort;

/**
 * The best variant's mean test accuracy over its succeeded runs, as the list's `best` computes it
 * (per variant index, NaN left out), or -1 when there is none: the `accuracy` order's key, so
 * experiments without a result sort after every real accuracy (all in [0,1]). A correlated
 * subquery per experiment on runs(experimentId, …), read for the filtered rows only.
 */
const BEST_ACCURACY = sql<number>`coalesce((
  SELECT max(v.mean) FROM (
    SELECT avg(r."testAccuracy") AS mean FROM runs r
    WHERE r."experimentId" = e.id AND r.status = 'succeeded'
      AND r."testAccuracy" IS NOT NULL AND r."testAccuracy" <> 'NaN'::float8
    GROUP BY r."variantIndex"
  ) v
), -1)`;

/** Where the previous page ended: its last row's sort key (ISO time, name or accuracy) and id. */
export interface ListPosition {
  key: string;
  id: string;
}

export interface ExperimentListFilter {
  statuses?: readonly TExperimentStatus[] | undefined;
  /** Case-insensitive substring of the name. */
  search?: string | undefined;
  /** Experiments with a variant of any of these activations. */
  activations?: readonly string[] | undefined;
  createdFrom?: Date | undefined;
  createdBefore?: Date | undefined;
}

/** `%`, `_` and `\` match themselves in a LIKE pattern once escaped (backslash is Postgres' default escape). */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * A page of the tenant's experiments in one of EXPERIMENT_SORTS, filtered: keyset pagination on
 * (sort key, id). Reads one row more than `limit`, so `more` says whether another page follows.
 */
export async function listExperimentsPage(
  db: Db,
  {
    tenantId,
    filter = {},
    sort = "newest",
    limit,
    after,
  }: {
    tenantId: string;
    filter?: ExperimentListFilter;
    sort?: ExperimentSort;
    limit: number;
    after?: ListPosition | undefined;
  },
): Promise<{ rows: ExperimentListRow[]; more: boolean }> {
  let q = db.kysely
    .selectFrom("experiments as e")
    .select(EXPERIMENT_COLUMNS)
    .select(sql<string>`lower(e.name)`.as("nameKey"))
    .$if(sort === "accuracy", (qb) => qb.select(BEST_ACCURACY.as("accuracyKey")))
    .where("e.tenantId", "=", tenantId);
  const { statuses, search, activations, createdFrom, createdBefore } = filter;
  if (statuses?.length) q = q.where("e.status", "in", [...statuses]);
  if (search) q = q.where(sql<boolean>`e.name ILIKE ${`%${likeLiteral(search)}%`}`);
  if (activations?.length) {
    q = q.where((eb) =>
      eb.or(
        activations.map(
          (a) => sql<boolean>`e.spec -> 'variants' @> ${JSON.stringify([{ activation: a }])}::jsonb`,
        ),
      ),
    );
  }
  if (createdFrom) q = q.where("e.createdAt", ">=", utcTimestamp(createdFrom));
  if (createdBefore) q = q.where("e.createdAt", "<", utcTimestamp(createdBefore));
  if (sort === "accuracy") {
    // Highest first; ties (and the experiments without a result, at the end) by id, descending.
    if (after)
      q = q.where(sql<boolean>`(${BEST_ACCURACY}, e.id) < (${after.key}::float8, ${after.id}::uuid)`);
    q = q.orderBy(BEST_ACCURACY, "desc").orderBy("e.id", "desc");
  } else if (sort === "name") {
    if (after) q = q.where(sql<boolean>`(lower(e.name), e.id) > (${after.key}, ${after.id}::uuid)`);
    q = q.orderBy(sql`lower(e.name)`, "asc").orderBy("e.id", "asc");
  } else {
    const dir = sort === "oldest" ? "asc" : "desc";
    if (after) {
      q = q.where(
        dir === "asc"
          ? sql<boolean>`(e."createdAt", e.id) > (${after.key}::timestamp, ${after.id}::uuid)`
          : sql<boolean>`(e."createdAt", e.id) < (${after.key}::timestamp, ${after.id}::uuid)`,
      );
    }
    q = q.orderBy("e.createdAt", dir).orderBy("e.id", dir);
  }
  const found = await q.limit(limit + 1).execute();
  const page = found.slice(0, limit);
  const ids = page.map((r) => r.id);
  const [groups, accuracy] = ids.length
    ? await Promise.all([
        db.run.groupBy({
          by: ["experimentId", "status"],
          where: { experimentId: { in: ids } },
          _count: { _all: true },
          _sum: { epochs: true, epochsCompleted: true },
        }),
        db.run.groupBy({
          by: ["experimentId", "variantIndex"],
          where: { experimentId: { in: ids }, status: "succeeded", testAccuracy: { not: null } },
          _avg: { testAccuracy: true },
        }),
      ])
    : [[], []];
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
      variantAccuracy: accuracy.flatMap((a) =>
        a.experimentId === r.id && a._avg.testAccuracy !== null && Number.isFinite(a._avg.testAccuracy)
          ? [{ variantIndex: a.variantIndex, mean: a._avg.testAccuracy }]
          : [],
      ),
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
