import { ZExperimentSpec, ZVariant } from "@actlab/contracts";
import type { Db } from "@actlab/db";
import { type Job, UnrecoverableError, WaitingError } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { CancelWatcher } from "../cancel-watcher.js";
import type { WorkerMetrics } from "../metrics.js";
import { isPermanentError, withTimeout } from "../retry.js";
import {
  emitEvent,
  loadRun,
  markCanceled,
  markFailed,
  markHandedBack,
  markRunning,
  markSucceeded,
  pollRun,
  RunNotHeldError,
  type RunStoreDeps,
  storeEpoch,
  updateExperimentStatus,
} from "../runs/run-store.js";
import type { TrainerThread, TrainHandle } from "../trainer/trainer-thread.js";
import { trainRunJob } from "./train-run.definition.js";

export interface TrainRunContext {
  db: Db;
  publisher: Redis;
  logger: Logger;
  trainer: TrainerThread;
  cancels: CancelWatcher;
  metrics: WorkerMetrics;
  workerId: string;
  backend: string;
  cancelPollMs: number;
  heartbeatMs: number;
  /** SIGTERM sets `requested` and stops `current`, the run in training. */
  shutdown: { requested: boolean; current: TrainHandle | null };
}

export type TrainRunOutcome = { outcome: "succeeded" | "canceled" | "skipped"; reason?: string };

/** Trainer errors retrying cannot fix: the message tells the user what to do. */
const PERMANENT_TRAINER_CODES = new Set(["DATASET_UNAVAILABLE"]);

/**
 * Trains one run (notes/LIFECYCLE.md, steps 2–5): re-validate, mark running, train in the
 * training thread while storing each epoch, then finish as succeeded, canceled, handed back
 * (shutdown) or failed.
 */
export async function handleTrainRun(
  job: Job,
  token: string | undefined,
  ctx: TrainRunContext,
): Promise<TrainRunOutcome> {
  const payload = trainRunJob.payload.safeParse(job.data);
  if (!payload.success)
    throw new UnrecoverableError(`invalid training job payload: ${payload.error.message}`);
  const { runId, experimentId } = payload.data;
  const log = ctx.logger.child({ runId, experimentId, jobId: job.id });
  const deps: RunStoreDeps = { db: ctx.db, publisher: ctx.publisher, logger: log };

  const run = await loadRun(ctx.db, runId);
  if (!run) return { outcome: "skipped", reason: "run no longer exists" };
  if (run.status === "succeeded" || run.status === "failed" || run.status === "canceled") {
    return { outcome: "skipped", reason: `run is already ${run.status}` };
  }
  if (run.cancelRequested) {
    await finishCanceled(deps, run.id, experimentId, log);
    return { outcome: "canceled" };
  }
  const spec = ZExperimentSpec.safeParse(run.experiment.spec);
  const variant = ZVariant.safeParse(run.variant);
  if (!spec.success || !variant.success) {
    const why = (spec.error ?? variant.error)?.issues
      .map((i) => `${i.path.join(".")}: ${i.message}`)
      .join("; ");
    await finishFailed(
      deps,
      runId,
      experimentId,
      `the stored experiment spec is invalid (${why}); submit it again`,
    );
    throw new UnrecoverableError(`invalid spec for run ${runId}`);
  }
  if (ctx.shutdown.requested) return handBack(job, token, ctx, deps, experimentId);

  const started = await markRunning(ctx.db, { runId, workerId: ctx.workerId, backend: ctx.backend });
  if (!started) return { outcome: "skipped", reason: "run finished meanwhile" };
  const resumedFromEpoch = run.checkpoint?.epoch ?? 0;
  await updateExperimentStatus(deps, experimentId);
  await emitEvent(deps, experimentId, {
    type: "run.started",
    data: {
      experimentId,
      runId,
      variant: variant.data,
      repeat: run.repeat,
      attempt: started.attempts,
      backend: ctx.backend,
      device: run.device,
      resumedFromEpoch,
    },
  });
  ctx.metrics.runsStarted.inc({ resumed: resumedFromEpoch > 0 ? "true" : "false" });
  log.info(
    { attempt: started.attempts, resumedFromEpoch, epochs: run.epochs, backend: ctx.backend },
    "run started",
  );

  let lost = false;
  let position = { epoch: resumedFromEpoch + 1, batch: 0, batches: 0 };
  const handle = ctx.trainer.train({
    runId,
    spec: spec.data,
    variant: variant.data,
    seed: run.seed,
    resumeFrom: run.checkpoint
      ? {
          epoch: run.checkpoint.epoch,
          weights: run.checkpoint.weights,
          state: run.checkpoint.state as Record<string, unknown>,
        }
      : null,
    onBatch: (info) => {
      position = info;
      ctx.metrics.batches.inc();
    },
    onEpoch: async (metrics, checkpoint) => {
      const t0 = performance.now();
      // Protocol order: metrics → run progress → checkpoint (one transaction), event, job progress.
      const { cancelRequested } = await storeEpoch(ctx.db, {
        runId,
        workerId: ctx.workerId,
        metrics,
        checkpoint,
      });
      await emitEvent(deps, experimentId, {
        type: "run.epoch",
        data: { experimentId, runId, epochs: run.epochs, metrics },
      });
      await withTimeout(
        job.updateProgress({ epoch: metrics.epoch, epochs: run.epochs }).catch((err: Error) => {
          log.warn({ err: err.message }, "job progress not updated");
        }),
        2_000,
      );
      if (cancelRequested) handle.stop("cancel");
      ctx.metrics.epochs.inc();
      ctx.metrics.epochSeconds.observe(metrics.seconds);
      ctx.metrics.storeSeconds.observe((performance.now() - t0) / 1000);
      log.info(
        {
          epoch: metrics.epoch,
          epochs: run.epochs,
          trainLoss: metrics.trainLoss,
          testAccuracy: metrics.testAccuracy,
          seconds: metrics.seconds,
        },
        "epoch stored",
      );
    },
  });
  ctx.shutdown.current = handle;
  if (ctx.shutdown.requested) handle.stop("shutdown");
  const unwatch = ctx.cancels.watch(runId, () => handle.stop("cancel"));
  let polls = 0;
  const touchEvery = Math.max(1, Math.round(ctx.heartbeatMs / ctx.cancelPollMs));
  const poller = setInterval(() => {
    polls++;
    pollRun(ctx.db, { runId, workerId: ctx.workerId, touch: polls % touchEvery === 0 })
      .then(({ cancelRequested, held }) => {
        if (cancelRequested) handle.stop("cancel");
        if (!held) {
          lost = true;
          handle.stop("shutdown");
        }
      })
      .catch((err: Error) => log.warn({ err: err.message }, "run poll failed"));
  }, ctx.cancelPollMs);
  ctx.metrics.busy.set(1);

  try {
    const result = await handle.result;
    if (lost) throw new RunNotHeldError(`run ${runId} was taken over or finished elsewhere`);
    if (result.outcome === "canceled") {
      log.info({ epochsCompleted: result.epochsCompleted, ...position }, "run stopped by cancel");
      await finishCanceled(deps, runId, experimentId, log);
      ctx.metrics.runsFinished.inc({ outcome: "canceled" });
      return { outcome: "canceled" };
    }
    if (result.outcome === "shutdown") {
      log.info({ epochsCompleted: result.epochsCompleted, ...position }, "run stopped for shutdown");
      ctx.metrics.runsFinished.inc({ outcome: "handed_back" });
      return await handBack(job, token, ctx, deps, experimentId);
    }
    if (!result.artifact || result.testAccuracy === null || result.testLoss === null) {
      throw new Error("trainer completed without a model artifact");
    }
    const { seconds } = await markSucceeded(ctx.db, {
      runId,
      workerId: ctx.workerId,
      artifact: result.artifact,
      testAccuracy: result.testAccuracy,
      testLoss: result.testLoss,
    });
    await emitEvent(deps, experimentId, {
      type: "run.finished",
      data: { experimentId, runId, testAccuracy: result.testAccuracy, testLoss: result.testLoss, seconds },
    });
    await updateExperimentStatus(deps, experimentId);
    ctx.metrics.runsFinished.inc({ outcome: "succeeded" });
    log.info({ testAccuracy: result.testAccuracy, testLoss: result.testLoss, seconds }, "run succeeded");
    return { outcome: "succeeded" };
  } catch (err) {
    if (err instanceof WaitingError) throw err;
    return await handleFailure(err as Error, job, ctx, deps, runId, experimentId, log);
  } finally {
    clearInterval(poller);
    unwatch();
    ctx.shutdown.current = null;
    ctx.metrics.busy.set(0);
  }
}

async function handleFailure(
  err: Error,
  job: Job,
  ctx: TrainRunContext,
  deps: RunStoreDeps,
  runId: string,
  experimentId: string,
  log: Logger,
): Promise<TrainRunOutcome> {
  if (err instanceof RunNotHeldError) {
    log.warn({ err: err.message }, "run no longer held by this worker; dropping it");
    ctx.metrics.runsFinished.inc({ outcome: "error" });
    const current = await loadRun(ctx.db, runId);
    if (!current || !["queued", "running"].includes(current.status)) {
      return { outcome: "skipped", reason: err.message };
    }
    throw err;
  }
  const code = (err as { code?: string }).code;
  const permanent = (code !== undefined && PERMANENT_TRAINER_CODES.has(code)) || isPermanentError(err);
  const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  if (permanent || finalAttempt) {
    const message = permanent
      ? err.message
      : `training failed after ${job.attemptsMade + 1} attempts: ${err.message}`;
    log.error({ err, permanent }, "run failed");
    await finishFailed(deps, runId, experimentId, message);
    ctx.metrics.runsFinished.inc({ outcome: "failed" });
    if (permanent) throw new UnrecoverableError(message);
    throw err;
  }
  log.warn({ err: err.message, attemptsMade: job.attemptsMade + 1 }, "run attempt failed; BullMQ will retry");
  ctx.metrics.runsFinished.inc({ outcome: "error" });
  throw err;
}

async function finishCanceled(deps: RunStoreDeps, runId: string, experimentId: string, log: Logger) {
  if (await markCanceled(deps.db, { runId })) {
    await deps.db.checkpoint.deleteMany({ where: { runId } }).catch(() => {});
    await emitEvent(deps, experimentId, { type: "run.canceled", data: { experimentId, runId } });
    log.info("run canceled");
  }
  await updateExperimentStatus(deps, experimentId);
}

async function finishFailed(deps: RunStoreDeps, runId: string, experimentId: string, error: string) {
  if (await markFailed(deps.db, { runId, error })) {
    await emitEvent(deps, experimentId, { type: "run.failed", data: { experimentId, runId, error } });
  }
  await updateExperimentStatus(deps, experimentId);
}

/**
 * Shutdown: the last completed epoch is already checkpointed; mark the run queued again and put
 * the job back in the wait list (BullMQ's documented "manual retrying": moveToWait with the
 * lock token, then WaitingError) so another worker takes it at once.
 */
async function handBack(
  job: Job,
  token: string | undefined,
  ctx: TrainRunContext,
  deps: RunStoreDeps,
  experimentId: string,
): Promise<never> {
  const runId = (job.data as { runId: string }).runId;
  await markHandedBack(ctx.db, { runId, workerId: ctx.workerId });
  await updateExperimentStatus(deps, experimentId);
  await job.moveToWait(token);
  deps.logger.info("shutting down: run checkpointed and handed back to the queue");
  throw new WaitingError();
}
