import type { TExperimentStatus } from "@actlab/contracts";
import type { Db, Prisma } from "@actlab/db";
import { AppError } from "../errors.js";
import { experimentLinks } from "./experiment-view.js";
import { isUuid } from "./experiments.js";

export interface ListItem {
  id: string;
  name: string;
  status: TExperimentStatus;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  runCounts: Record<string, number>;
  progress: { epoch: number; epochs: number };
  links: Record<string, string>;
}

interface Cursor {
  createdAt: string;
  id: string;
}

/** Opaque to clients: the (createdAt, id) of the last item, base64url-encoded. */
export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.createdAt, c.id])).toString("base64url");
}

export function decodeCursor(raw: string): Cursor {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as [unknown, unknown];
    // A UUID and a date Postgres can hold (JS dates reach back to year -271821, Postgres to
    // 4713 BC): anything else would fail inside the query as a 500 instead of this 400.
    if (
      typeof createdAt === "string" &&
      !Number.isNaN(Date.parse(createdAt)) &&
      new Date(createdAt).getUTCFullYear() >= 1 &&
      typeof id === "string" &&
      isUuid(id)
    ) {
      return { createdAt, id };
    }
  } catch {
    // fall through
  }
  throw new AppError("validation", "cursor is not one this API handed out", {
    errors: [{ path: "cursor", message: "invalid cursor; pass nextCursor from a previous page unchanged" }],
  });
}

/** Newest first; keyset pagination on (createdAt, id) so pages never skip or repeat rows. */
export async function listExperiments({
  db,
  tenantId,
  statuses,
  limit,
  cursor,
}: {
  db: Db;
  tenantId: string;
  statuses?: TExperimentStatus[] | undefined;
  limit: number;
  cursor?: string | undefined;
}): Promise<{ items: ListItem[]; nextCursor: string | null }> {
  const where: Prisma.ExperimentWhereInput = { tenantId };
  if (statuses?.length) where.status = { in: statuses };
  if (cursor) {
    const c = decodeCursor(cursor);
    const at = new Date(c.createdAt);
    where.OR = [{ createdAt: { lt: at } }, { createdAt: at, id: { lt: c.id } }];
  }
  const rows = await db.experiment.findMany({
    where,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit + 1,
    select: { id: true, name: true, status: true, createdAt: true, startedAt: true, finishedAt: true },
  });
  const page = rows.slice(0, limit);
  const groups = page.length
    ? await db.run.groupBy({
        by: ["experimentId", "status"],
        where: { experimentId: { in: page.map((r) => r.id) } },
        _count: { _all: true },
        _sum: { epochs: true, epochsCompleted: true },
      })
    : [];
  const items = page.map((r): ListItem => {
    const mine = groups.filter((g) => g.experimentId === r.id);
    return {
      id: r.id,
      name: r.name,
      status: r.status,
      createdAt: r.createdAt.toISOString(),
      startedAt: r.startedAt?.toISOString() ?? null,
      finishedAt: r.finishedAt?.toISOString() ?? null,
      runCounts: Object.fromEntries(mine.map((g) => [g.status, g._count._all])),
      progress: {
        epoch: mine.reduce((a, g) => a + (g._sum.epochsCompleted ?? 0), 0),
        epochs: mine.reduce((a, g) => a + (g._sum.epochs ?? 0), 0),
      },
      links: experimentLinks(r.id),
    };
  });
  const last = page[page.length - 1];
  const nextCursor =
    rows.length > limit && last
      ? encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id })
      : null;
  return { items, nextCursor };
}
