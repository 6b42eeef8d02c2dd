import type { TEpochMetrics, TProvenance } from "@actlab/contracts";
import { type Selectable, sql, type Transaction } from "kysely";
import type { Db } from "../client.js";
import type { DB, Run } from "../generated/kysely/types.js";
import type { Checkpoint, Experiment, Run as PrismaRun } from "../generated/prisma/client.js";
import { utcNow, utcTimestamp } from "../timestamps.js";

/*
 * Every change of a run's status, and every write a worker makes to a run, is one of these
 * functions (docs/lifecycle.md). Status changes apply only to runs that are not terminal yet, so
 * a late or repeated call never resurrects a finished run. A worker's writes carry the attempt
 * that startRun gave it and apply only while that attempt is the run's current one (fencing):
 * once another worker has taken the run over, the old one cannot write anything.
 */

/** This attempt no longer holds the run (another worker took it over, or it finished meanwhile). */
export class RunNotHeldError extends Error {
  override name = "RunNotHeldError";
  /** Retrying cannot help (the worker's retry loop stops at errors marked permanent). */
  readonly permanent = true;
}

/** The trainer's checkpoint: enough to resume (weights, optimizer and shuffle state). */
export interface RunCheckpoint {
  /** The last epoch it contains. */
  epoch: number;
  weights: Uint8Array;
  state: Record<string, unknown>;
}

/** The trained model in TensorFlow.js layers format. */
export interface RunArtifact {
  topology: object;
  weightSpecs: object[];
  weights: Uint8Array;
  sha256: string;
}

const OPEN = ["queued", "running"] as const;

const now = utcNow;

const bytes = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export type LoadedRun = PrismaRun & { experiment: Experiment; checkpoint: Checkpoint | null };

/** The run with its experiment and checkpoint, as a worker needs it to train. */
export function loadRun(db: Db, runId: string): Promise<LoadedRun | null> {
  return db.run.findUnique({ where: { id: runId }, include: { experiment: true, checkpoint: true } });
}

/**
 * queued|running → running as a new attempt of this worker (a running run is being taken over:
 * its old attempt is fenced out from now on). Returns the run, whose `attempts` is this attempt's
 * number, or null if the run is terminal. `provenance` (what this worker trains with) replaces the
 * previous attempt's, so a finished run names what finished it.
 */
export async function startRun(
  db: Db,
  {
    runId,
    workerId,
    backend,
    provenance,
  }: { runId: string; workerId: string; backend: string; provenance?: TProvenance },
): Promise<Selectable<Run> | null> {
  const at = now();
  const row = await db.kysely
    .updateTable("runs")
    .set((eb) => ({
      status: "running",
      attempts: eb("attempts", "+", 1),
      startedAt: eb.fn.coalesce("startedAt", sql<string>`${at}::timestamp`),
      backend,
      workerId,
      ...(provenance ? { provenance: JSON.stringify(provenance) } : {}),
      error: null,
      // What the worker resumes from: the checkpoint's epoch, 0 without one (shown as "resumed from epoch k").
      resumedFromEpoch: eb.fn.coalesce(
        eb
          .selectFrom("checkpoints")
          .select("checkpoints.epoch")
          .whereRef("checkpoints.runId", "=", "runs.id"),
        eb.lit(0),
      ),
      updatedAt: at,
    }))
    .where("id", "=", runId)
    .where("status", "in", OPEN)
    .returningAll()
    .executeTakeFirst();
  return row ?? null;
}

/** Locks the run's row; throws RunNotHeldError unless it is running as `attempt`. */
async function lockHeld(trx: Transaction<DB>, runId: string, attempt: number) {
  const run = await trx
    .selectFrom("runs")
    .select(["status", "attempts", "cancelRequested"])
    .where("id", "=", runId)
    .forUpdate()
    .executeTakeFirst();
  if (run?.status !== "running" || run.attempts !== attempt) {
    throw new RunNotHeldError(
      run
        ? `run ${runId} is ${run.status} at attempt ${run.attempts}, not running as attempt ${attempt}`
        : `run ${runId} is gone`,
    );
  }
  return run;
}

function upsertCheckpoint(trx: Transaction<DB>, runId: string, checkpoint: RunCheckpoint) {
  const values = {
    epoch: checkpoint.epoch,
    weights: bytes(checkpoint.weights),
    state: JSON.stringify(checkpoint.state),
    updatedAt: now(),
  };
  return trx
    .insertInto("checkpoints")
    .values({ runId, ...values })
    .onConflict((oc) => oc.column("runId").doUpdateSet(values))
    .execute();
}

/**
 * Stores one epoch in one transaction: its metrics (an upsert, so a re-trained epoch replaces
 * itself), the run's progress, and the checkpoint when there is one (null: metrics and progress
 * only; checkpoints come by time, not every epoch). Throws RunNotHeldError unless the run is
 * running as `attempt`. Returns whether a cancel was requested meanwhile.
 */
export async function storeEpoch(
  db: Db,
  {
    runId,
    attempt,
    metrics,
    checkpoint,
  }: { runId: string; attempt: number; metrics: TEpochMetrics; checkpoint: RunCheckpoint | null },
): Promise<{ cancelRequested: boolean }> {
  const { epoch, preluAlphaMean, ...values } = metrics;
  const row = { ...values, preluAlphaMean: preluAlphaMean ?? [] };
  return db.kysely.transaction().execute(async (trx) => {
    const run = await lockHeld(trx, runId, attempt);
    await trx
      .insertInto("epoch_metrics")
      .values({ runId, epoch, ...row, createdAt: now() })
      .onConflict((oc) => oc.columns(["runId", "epoch"]).doUpdateSet(row))
      .execute();
    // Never backwards: a run resumed from an earlier checkpoint trains stored epochs again (the
    // upsert keeps one row each), and the count must still say what is stored — the worker
    // announces only epochs past it, so a count set back by a retrained epoch made the next
    // attempt announce an epoch twice (tests/reliability: crash).
    await trx
      .updateTable("runs")
      .set((eb) => ({
        epochsCompleted: eb.fn<number>("greatest", [eb.ref("epochsCompleted"), eb.val(epoch)]),
        updatedAt: now(),
      }))
      .where("id", "=", runId)
      .execute();
    if (checkpoint) await upsertCheckpoint(trx, runId, checkpoint);
    return { cancelRequested: run.cancelRequested };
  });
}

/** Stores the checkpoint alone (a stopped run hands back what it has). Fenced like storeEpoch. */
export async function storeCheckpoint(
  db: Db,
  { runId, attempt, checkpoint }: { runId: string; attempt: number; checkpoint: RunCheckpoint },
): Promise<void> {
  await db.kysely.transaction().execute(async (trx) => {
    await lockHeld(trx, runId, attempt);
    await upsertCheckpoint(trx, runId, checkpoint);
  });
}

/**
 * running (as `attempt`) → succeeded: the model, the summary (seconds summed over the stored
 * epochs). The checkpoint is kept (the trainer sends one with the last epoch): it is what
 * `continueExperiment` resumes a finished run from. Throws RunNotHeldError unless the run is
 * running as `attempt`.
 */
/** How a run succeeded: its attempt, its model and its final numbers. */
export interface RunSuccess {
  runId: string;
  attempt: number;
  artifact: RunArtifact;
  testAccuracy: number;
  testLoss: number;
  /** Early stopping ended it before its planned epochs. */
  stoppedEarly?: boolean;
}

export async function succeedRun(
  db: Db,
  { runId, attempt, artifact, testAccuracy, testLoss, stoppedEarly = false }: RunSuccess,
): Promise<{ seconds: number }> {
  const model = {
    topology: JSON.stringify(artifact.topology),
    weightSpecs: JSON.stringify(artifact.weightSpecs),
    weights: bytes(artifact.weights),
    sha256: artifact.sha256,
    sizeBytes: artifact.weights.byteLength,
  };
  return db.kysely.transaction().execute(async (trx) => {
    await lockHeld(trx, runId, attempt);
    const sum = await trx
      .selectFrom("epoch_metrics")
      .select((eb) => eb.fn.sum<number | null>("seconds").as("seconds"))
      .where("runId", "=", runId)
      .executeTakeFirst();
    const seconds = sum?.seconds ?? 0;
    await trx
      .insertInto("model_artifacts")
      .values({ runId, ...model, createdAt: now() })
      .onConflict((oc) => oc.column("runId").doUpdateSet(model))
      .execute();
    const at = now();
    await trx
      .updateTable("runs")
      .set({
        status: "succeeded",
        testAccuracy,
        testLoss,
        stoppedEarly,
        seconds,
        finishedAt: at,
        error: null,
        updatedAt: at,
      })
      .where("id", "=", runId)
      .execute();
    return { seconds };
  });
}

/**
 * Not terminal → failed, with a message for the user. With `attempt`, only while the run is that
 * attempt's (a worker's failure), without it in any open state (before training started, or
 * the reconciler giving up). Returns whether it changed the run.
 */
export async function failRun(
  db: Db,
  { runId, error, attempt }: { runId: string; error: string; attempt?: number },
): Promise<boolean> {
  const at = now();
  const result = await db.kysely
    .updateTable("runs")
    .set({ status: "failed", error: error.slice(0, 2_000), finishedAt: at, updatedAt: at })
    .where("id", "=", runId)
    .where("status", "in", OPEN)
    .$if(attempt !== undefined, (q) => q.where("attempts", "=", attempt!))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Not terminal (or only `queued`, for a run whose job the API just took out of the queue: a
 * worker may have taken it a moment ago, and then cancels it itself) → canceled, its checkpoint
 * dropped. With `attempt`, only while the run is that attempt's. Returns whether it changed the run.
 */
export async function cancelRun(
  db: Db,
  { runId, attempt, onlyIfQueued = false }: { runId: string; attempt?: number; onlyIfQueued?: boolean },
): Promise<boolean> {
  const at = now();
  const changed = await db.kysely.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable("runs")
      .set({ status: "canceled", finishedAt: at, updatedAt: at })
      .where("id", "=", runId)
      .where("status", "in", onlyIfQueued ? ["queued"] : OPEN)
      .$if(attempt !== undefined, (q) => q.where("attempts", "=", attempt!))
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) return false;
    await trx.deleteFrom("checkpoints").where("runId", "=", runId).execute();
    return true;
  });
  return changed;
}

/** running as `attempt` → queued, its worker cleared (its job goes back to the queue). */
async function requeue(
  db: Db,
  { runId, attempt, untouchedSince }: { runId: string; attempt: number; untouchedSince?: Date },
): Promise<boolean> {
  const result = await db.kysely
    .updateTable("runs")
    .set({ status: "queued", workerId: null, updatedAt: now() })
    .where("id", "=", runId)
    .where("status", "=", "running")
    .where("attempts", "=", attempt)
    .$if(untouchedSince !== undefined, (q) => q.where("updatedAt", "<", utcTimestamp(untouchedSince!)))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** running (as `attempt`) → queued: the worker gives the job back (shutdown). Returns whether it did. */
export function handBackRun(
  db: Db,
  { runId, attempt }: { runId: string; attempt: number },
): Promise<boolean> {
  return requeue(db, { runId, attempt });
}

/**
 * running → queued for a run whose worker vanished: only while it is still the attempt the
 * reconciler saw and nobody touched it since `staleBefore` (a worker may have just taken it).
 */
export function requeueStaleRun(
  db: Db,
  { runId, attempt, staleBefore }: { runId: string; attempt: number; staleBefore: Date },
): Promise<boolean> {
  return requeue(db, { runId, attempt, untouchedSince: staleBefore });
}

/** Flags these runs, if still open, for cancellation (workers read the flag between batches). */
export async function requestCancel(db: Db, runIds: readonly string[]): Promise<void> {
  if (!runIds.length) return;
  await db.kysely
    .updateTable("runs")
    .set({ cancelRequested: true, updatedAt: now() })
    .where("id", "in", runIds)
    .where("status", "in", OPEN)
    .execute();
}

/**
 * Reads the cancel flag and whether `attempt` still holds the run; with `touch`, first marks the
 * run alive (updatedAt, the reconciler's heartbeat) if it does.
 */
export async function pollRun(
  db: Db,
  { runId, attempt, touch }: { runId: string; attempt: number; touch: boolean },
): Promise<{ cancelRequested: boolean; held: boolean }> {
  if (touch) {
    await db.kysely
      .updateTable("runs")
      .set({ updatedAt: now() })
      .where("id", "=", runId)
      .where("status", "=", "running")
      .where("attempts", "=", attempt)
      .execute();
  }
  const run = await db.kysely
    .selectFrom("runs")
    .select(["cancelRequested", "status", "attempts"])
    .where("id", "=", runId)
    .executeTakeFirst();
  return {
    cancelRequested: run?.cancelRequested ?? false,
    held: run?.status === "running" && run.attempts === attempt,
  };
}
