import { deriveExperimentStatus, type TExperimentStatus, type TRunStatus } from "@actlab/contracts";
import type { Db } from "./client.js";

export interface StatusChange {
  previous: TExperimentStatus;
  status: TExperimentStatus;
  /** True when this call moved the experiment into a terminal status. */
  finishedNow: boolean;
}

const TERMINAL: readonly TExperimentStatus[] = ["succeeded", "failed", "canceled", "partial"];

/**
 * Recomputes an experiment's status from its runs. The experiment row is locked for the
 * duration, so two workers finishing the last two runs at once cannot both miss (or both
 * announce) the end, and the stored status always matches the runs.
 */
export async function refreshExperimentStatus(db: Db, experimentId: string): Promise<StatusChange | null> {
  return db.$transaction(async (tx) => {
    const locked = await tx.$queryRaw<Array<{ status: TExperimentStatus; startedAt: Date | null }>>`
      SELECT status::text AS status, "startedAt" FROM experiments WHERE id = ${experimentId}::uuid FOR UPDATE`;
    const row = locked[0];
    if (!row) return null;
    const runs = await tx.run.findMany({ where: { experimentId }, select: { status: true } });
    const status = deriveExperimentStatus(runs.map((r) => r.status as TRunStatus));
    const finished = TERMINAL.includes(status);
    if (status !== row.status) {
      await tx.experiment.update({
        where: { id: experimentId },
        data: {
          status,
          startedAt: row.startedAt ?? (status === "queued" ? null : new Date()),
          finishedAt: finished ? new Date() : null,
        },
      });
    }
    return {
      previous: row.status,
      status,
      finishedNow: finished && !TERMINAL.includes(row.status),
    };
  });
}
