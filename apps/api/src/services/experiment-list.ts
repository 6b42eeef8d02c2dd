import type { TExperimentStatus } from "@actlab/contracts";
import { type Db, listExperimentsPage } from "@actlab/db";
import { AppError } from "../errors.js";
import { experimentLinks } from "./experiment-view.js";
import { isUuid } from "./uuid.js";

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
  const c = cursor ? decodeCursor(cursor) : undefined;
  const { rows, more } = await listExperimentsPage(db, {
    tenantId,
    statuses,
    limit,
    before: c && { createdAt: new Date(c.createdAt), id: c.id },
  });
  const items = rows.map(
    (r): ListItem => ({
      id: r.id,
      name: r.name,
      status: r.status,
      createdAt: r.createdAt.toISOString(),
      startedAt: r.startedAt?.toISOString() ?? null,
      finishedAt: r.finishedAt?.toISOString() ?? null,
      runCounts: Object.fromEntries(r.runGroups.map((g) => [g.status, g.runs])),
      progress: {
        epoch: r.runGroups.reduce((a, g) => a + g.epochsCompleted, 0),
        epochs: r.runGroups.reduce((a, g) => a + g.epochs, 0),
      },
      links: experimentLinks(r.id),
    }),
  );
  const last = rows[rows.length - 1];
  const nextCursor =
    more && last ? encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id }) : null;
  return { items, nextCursor };
}
