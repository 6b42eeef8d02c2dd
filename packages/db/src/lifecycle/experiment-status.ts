import { deriveExperimentStatus, type TExperimentStatus, type TRunStatus } from "@actlab/contracts";
import type { Db } from "../client.js";
import { utcNow } from "../timestamps.js";
import { type LifecycleContext, retrying } from "./context.js";
import { emitEvent } from "./events.js";

const TERMINAL: readonly TExperimentStatus[] = ["succeeded", "failed", "canceled", "partial"];
const isTerminal = (s: TExperimentStatus) => TERMINAL.includes(s);

export interface StatusChange {
  previous: TExperimentStatus;
  status: TExperimentStatus;
  /** True when this call moved the experiment into a terminal status. */
  finishedNow: boolean;
}

/**
 * Recomputes an experiment's status from its runs. The experiment row is locked for the
 * duration, so two workers finishing the last two runs at once cannot both miss (or both
 * announce) the end, and the stored status always matches the runs.
 */
export async function refreshExperimentStatus(db: Db, experimentId: string): Promise<StatusChange | null> {
  return db.kysely.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom("experiments")
      .select(["status", "startedAt"])
      .where("id", "=", experimentId)
      .forUpdate()
      .executeTakeFirst();
    if (!row) return null;
    const runs = await trx
      .selectFrom("runs")
      .select("status")
      .where("experimentId", "=", experimentId)
      .execute();
    const status = deriveExperimentStatus(runs.map((r) => r.status as TRunStatus));
    const finished = isTerminal(status);
    if (status !== row.status) {
      const at = utcNow();
      await trx
        .updateTable("experiments")
        .set({
          status,
          startedAt: row.startedAt ?? (status === "queued" ? null : at),
          finishedAt: finished ? at : null,
        })
        .where("id", "=", experimentId)
        .execute();
    }
    return { previous: row.status, status, finishedNow: finished && !isTerminal(row.status) };
  });
}

/**
 * Brings the experiment's status up to date with its runs and, if that finished it, announces
 * `experiment.finished`: exactly once, whoever finished the last run (see refreshExperimentStatus).
 */
export async function settleExperiment(
  ctx: LifecycleContext,
  experimentId: string,
): Promise<StatusChange | null> {
  const change = await retrying(ctx, () => refreshExperimentStatus(ctx.db, experimentId));
  if (change?.finishedNow) {
    ctx.log.info({ experimentId, status: change.status }, "experiment finished");
    await emitEvent(ctx, experimentId, {
      type: "experiment.finished",
      data: { experimentId, status: change.status },
    });
  }
  return change;
}
