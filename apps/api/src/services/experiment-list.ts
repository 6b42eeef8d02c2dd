import type { TExperimentListItem, TExperimentSpec, TExperimentStatus } from "@actlab/contracts";
import {
  type Db,
  type ExperimentListFilter,
  type ExperimentSort,
  type ListPosition,
  listExperimentsPage,
} from "@actlab/db";
import { AppError } from "../errors.js";
import { experimentLinks } from "./experiment-view.js";
import { isUuid } from "./uuid.js";

/** Opaque to clients: the sort, and the sort key and id of the last item, base64url-encoded. */
export function encodeCursor(sort: ExperimentSort, p: ListPosition): string {
  return Buffer.from(JSON.stringify([sort, p.key, p.id])).toString("base64url");
}

const invalidCursor = (why: string) =>
  new AppError("validation", "cursor is not one this API handed out", {
    errors: [{ path: "cursor", message: why }],
  });

export function decodeCursor(raw: string, sort: ExperimentSort): ListPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    parsed = null;
  }
  const [cursorSort, key, id] = Array.isArray(parsed) ? parsed : [];
  if (cursorSort !== sort && Array.isArray(parsed) && typeof cursorSort === "string") {
    throw invalidCursor(
      `this cursor continues the "${cursorSort}" order; pass sort=${cursorSort} or start over`,
    );
  }
  // A UUID, and for time orders a date Postgres can hold (JS dates reach back to year -271821,
  // Postgres to 4713 BC): anything else would fail inside the query as a 500 instead of this 400.
  const validKey =
    typeof key === "string" &&
    key.length <= 1000 &&
    (sort === "name" ||
      (sort === "accuracy"
        ? key.trim() !== "" && Number.isFinite(Number(key))
        : !Number.isNaN(Date.parse(key)) && new Date(key).getUTCFullYear() >= 1));
  if (!validKey || typeof id !== "string" || !isUuid(id)) {
    throw invalidCursor("invalid cursor; pass nextCursor from a previous page unchanged");
  }
  return { key, id };
}

/** One page of the tenant's experiments in the asked order and filter (keyset pagination). */
export async function listExperiments({
  db,
  tenantId,
  filter,
  sort = "newest",
  limit,
  cursor,
}: {
  db: Db;
  tenantId: string;
  filter: ExperimentListFilter;
  sort?: ExperimentSort;
  limit: number;
  cursor?: string | undefined;
}): Promise<{ items: TExperimentListItem[]; nextCursor: string | null }> {
  const after = cursor ? decodeCursor(cursor, sort) : undefined;
  const { rows, more } = await listExperimentsPage(db, { tenantId, filter, sort, limit, after });
  const items = rows.map((r): TExperimentListItem => {
    const variants = (r.spec as TExperimentSpec).variants;
    const top = [...r.variantAccuracy].sort((a, b) => b.mean - a.mean)[0];
    const variant = top ? variants[top.variantIndex] : undefined;
    return {
      id: r.id,
      name: r.name,
      status: r.status as TExperimentStatus,
      createdAt: r.createdAt.toISOString(),
      startedAt: r.startedAt?.toISOString() ?? null,
      finishedAt: r.finishedAt?.toISOString() ?? null,
      runCounts: Object.fromEntries(r.runGroups.map((g) => [g.status, g.runs])),
      progress: {
        epoch: r.runGroups.reduce((a, g) => a + g.epochsCompleted, 0),
        epochs: r.runGroups.reduce((a, g) => a + g.epochs, 0),
      },
      best: top && variant ? { variant, testAccuracy: top.mean } : null,
      links: experimentLinks(r.id),
    };
  });
  const last = rows[rows.length - 1];
  const nextCursor =
    more && last
      ? encodeCursor(sort, {
          key:
            sort === "name"
              ? last.nameKey
              : sort === "accuracy"
                ? String(last.accuracyKey)
                : last.createdAt.toISOString(),
          id: last.id,
        })
      : null;
  return { items, nextCursor };
}
