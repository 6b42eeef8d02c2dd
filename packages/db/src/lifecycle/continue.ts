import { deriveExperimentStatus, type TRunStatus } from "@actlab/contracts";
import { sql } from "kysely";
import type { Db } from "../client.js";
import { utcNow } from "../timestamps.js";
import { TENANT_LOCK_NAMESPACE, tenantLockKey } from "./create.js";

/** Why one run cannot be continued (the API lists each: in its 202 beside the runs that did, or its 409). */
export interface RunRefusal {
  runId: string;
  reason: string;
}

export type ContinueOutcome =
  /** No such experiment for this tenant. */
  | { kind: "notFound" }
  /**
   * The spec already has `epochs`: nothing changed (a repeated call is idempotent). `notContinued`:
   * the runs left short of it by the continue that set it, with why.
   */
  | { kind: "unchanged"; queuedRuns: Array<{ id: string; device: string }>; notContinued: RunRefusal[] }
  /** Fewer epochs than the runs already have: training cannot be undone. */
  | { kind: "shorter"; epochs: number }
  /** Runs of it are still queued or running: continue once they are finished. */
  | { kind: "open"; openRuns: number }
  /** No run can resume (nothing was changed). */
  | { kind: "refused"; runs: RunRefusal[] }
  /** Requeuing would put the tenant over `maxActiveRuns` (nothing was changed). */
  | { kind: "limited"; active: number }
  /** `runs` are queued again; `notContinued` keep their status and epochs, each with why. */
  | { kind: "continued"; runs: Array<{ id: string; device: string }>; notContinued: RunRefusal[] };

/** Why a finished run cannot resume, or null when it can: it succeeded and kept its final checkpoint. */
function refusal(r: { id: string; status: string; checkpointEpoch: number | null }): RunRefusal | null {
  if (r.status !== "succeeded") {
    return { runId: r.id, reason: `the run ${r.status}; only succeeded runs can continue` };
  }
  if (r.checkpointEpoch === null) {
    return {
      runId: r.id,
      reason: "the run has no checkpoint to resume from (it finished before finished runs kept theirs)",
    };
  }
  return null;
}

/**
 * Extends a finished experiment to `epochs` (docs/lifecycle.md, "continue"): its runs that
 * succeeded and kept their final checkpoint (succeedRun keeps it for this) — all of them, or in a
 * `partial` or `canceled` experiment those that finished — in one transaction under the tenant's
 * advisory lock (the active-runs limit is exact, as at creation): the spec's `training.epochs` and
 * those runs' `epochs` become `epochs` and they are queued again. The other runs (failed,
 * canceled, without a checkpoint) stay as they are and are returned with why; when no run can
 * resume nothing changes. A worker then resumes each from its checkpoint (training epochs checkpoint+1…epochs;
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
    // The tenant's lock, as create takes it, with the numbers as bound parameters.
    await sql`SELECT pg_advisory_xact_lock(${TENANT_LOCK_NAMESPACE}::int, ${tenantLockKey(tenantId)}::int)`.execute(
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
        "runs.epochs",
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
      // The runs an earlier continue to this total left behind (a run created at it has it).
      const notContinued = runs.flatMap((r) => (r.epochs < current ? (refusal(r) ?? []) : []));
      return { kind: "unchanged", queuedRuns, notContinued };
    }
    if (epochs < current) return { kind: "shorter", epochs: current };
    const open = runs.filter((r) => r.status === "queued" || r.status === "running").length;
    if (open) return { kind: "open", openRuns: open };
    const refusals = runs.flatMap((r) => refusal(r) ?? []);
    const resumable = runs.filter((r) => !refusal(r));
    if (!resumable.length) return { kind: "refused", runs: refusals };

    const activeRow = await trx
      .selectFrom("runs")
      .innerJoin("experiments", "experiments.id", "runs.experimentId")
      .select(sql<number>`count(*)::int`.as("n"))
      .where("experiments.tenantId", "=", tenantId)
      .where("runs.status", "in", ["queued", "running"])
      .executeTakeFirstOrThrow();
    if (activeRow.n + resumable.length > maxActiveRuns) return { kind: "limited", active: activeRow.n };

    const at = utcNow();
    await trx
      .updateTable("experiments")
      .set({
        spec: sql`jsonb_set(spec, '{training,epochs}', to_jsonb(${epochs}::int))`,
        // "queued", or "running" beside runs that stay failed or canceled (as refreshExperimentStatus would say).
        status: deriveExperimentStatus(
          runs.map((r): TRunStatus => (refusal(r) ? (r.status as TRunStatus) : "queued")),
        ),
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
      .where(
        "id",
        "in",
        resumable.map((r) => r.id),
      )
      .execute();
    return {
      kind: "continued",
      runs: resumable.map((r) => ({ id: r.id, device: r.device })),
      notContinued: refusals,
    };
  });
}
