import { sql } from "kysely";
import type { Db } from "../client.js";
import { utcNow } from "../timestamps.js";
import { TENANT_LOCK_NAMESPACE, tenantLockKey } from "./create.js";

/** Why one run cannot be continued (the API lists each in its 409). */
export interface RunRefusal {
  runId: string;
  reason: string;
}

export type ContinueOutcome =
  /** No such experiment for this tenant. */
  | { kind: "notFound" }
  /** The spec already has `epochs`: nothing changed (a repeated call is idempotent). */
  | { kind: "unchanged"; queuedRuns: Array<{ id: string; device: string }> }
  /** Fewer epochs than the runs already have: training cannot be undone. */
  | { kind: "shorter"; epochs: number }
  /** Runs of it are still queued or running: continue once they are finished. */
  | { kind: "open"; openRuns: number }
  /** Some runs cannot resume (nothing was changed). */
  | { kind: "refused"; runs: RunRefusal[] }
  /** Requeuing would put the tenant over `maxActiveRuns` (nothing was changed). */
  | { kind: "limited"; active: number }
  | { kind: "continued"; runs: Array<{ id: string; device: string }> };

/**
 * Extends a finished experiment to `epochs` (docs/lifecycle.md, "continue"): every run must have
 * succeeded and kept its final checkpoint (succeedRun keeps it for this); then, in one
 * transaction under the tenant's advisory lock (the active-runs limit is exact, as at creation),
 * the spec's `training.epochs` and each run's `epochs` become `epochs` and the runs are queued
 * again. A worker then resumes each from its checkpoint (training epochs checkpoint+1…epochs;
 * storeEpoch's upsert keeps every epoch once) and finishes it as usual. Attempts are kept (they
 * count every start), the old test metrics are cleared until the new end replaces them.
 */
export async function continueExperiment(
  db: Db,
  {
    experimentId,
    tenantId,
    epochs,
    maxActiveRuns,
  }: { experimentId: string; tenantId: string; epochs: number; maxActiveRuns: number },
): Promise<ContinueOutcome> {
  return db.kysely.transaction().execute(async (trx): Promise<ContinueOutcome> => {
    await sql`SELECT pg_advisory_xact_lock(${sql.lit(TENANT_LOCK_NAMESPACE)}, ${sql.lit(tenantLockKey(tenantId))})`.execute(
      trx,
    );
    const exp = await trx
      .selectFrom("experiments")
      .select(["id", "spec"])
      .where("id", "=", experimentId)
      .where("tenantId", "=", tenantId)
      .forUpdate()
      .executeTakeFirst();
    if (!exp) return { kind: "notFound" };
    const current = (exp.spec as { training: { epochs: number } }).training.epochs;
    const runs = await trx
      .selectFrom("runs")
      .leftJoin("checkpoints", "checkpoints.runId", "runs.id")
      .select([
        "runs.id",
        "runs.status",
        "runs.device",
        "runs.epochsCompleted",
        "checkpoints.epoch as checkpointEpoch",
      ])
      .where("runs.experimentId", "=", experimentId)
      .orderBy("runs.variantIndex")
      .orderBy("runs.repeat")
      .execute();
    if (epochs === current) {
      const queuedRuns = runs
        .filter((r) => r.status === "queued")
        .map((r) => ({ id: r.id, device: r.device }));
      return { kind: "unchanged", queuedRuns };
    }
    if (epochs < current) return { kind: "shorter", epochs: current };
    const open = runs.filter((r) => r.status === "queued" || r.status === "running").length;
    if (open) return { kind: "open", openRuns: open };
    const refusals = runs.flatMap((r): RunRefusal[] => {
      if (r.status !== "succeeded") {
        return [{ runId: r.id, reason: `the run ${r.status}; only succeeded runs can continue` }];
      }
      if (r.checkpointEpoch === null) {
        return [
          {
            runId: r.id,
            reason: "the run has no checkpoint to resume from (it finished before finished runs kept theirs)",
          },
        ];
      }
      return [];
    });
    if (refusals.length) return { kind: "refused", runs: refusals };

    const activeRow = await trx
      .selectFrom("runs")
      .innerJoin("experiments", "experiments.id", "runs.experimentId")
      .select(sql<number>`count(*)::int`.as("n"))
      .where("experiments.tenantId", "=", tenantId)
      .where("runs.status", "in", ["queued", "running"])
      .executeTakeFirstOrThrow();
    if (activeRow.n + runs.length > maxActiveRuns) return { kind: "limited", active: activeRow.n };

    const at = utcNow();
    await trx
      .updateTable("experiments")
      .set({
        spec: sql`jsonb_set(spec, '{training,epochs}', to_jsonb(${epochs}::int))`,
        status: "queued",
        finishedAt: null,
      })
      .where("id", "=", experimentId)
      .execute();
    await trx
      .updateTable("runs")
      .set({
        status: "queued",
        epochs,
        finishedAt: null,
        testAccuracy: null,
        testLoss: null,
        error: null,
        workerId: null,
        cancelRequested: false,
        updatedAt: at,
      })
      .where("experimentId", "=", experimentId)
      .execute();
    return { kind: "continued", runs: runs.map((r) => ({ id: r.id, device: r.device })) };
  });
}
