import {
  applyCell,
  type TCell,
  type TExperimentSpec,
  type TProvenance,
  ZExperimentSpec,
  ZVariant,
} from "@actlab/contracts";
import type { Db } from "@actlab/db";
import type { PubSubChannels, RedisConnection, WebhookProducer } from "@actlab/queue";
import { type Job, UnrecoverableError, WaitingError } from "bullmq";
import type { Logger } from "pino";
import type { CancelWatcher } from "../cancel-watcher.js";
import type { WorkerMetrics } from "../metrics.js";
import { isPermanentError } from "../retry.js";
import { finishCanceled, finishFailed, finishSucceeded, handBack } from "../runs/run-finish.js";
import {
  emitEvent,
  loadRun,
  markRunning,
  RunNotHeldError,
  type RunStoreDeps,
  updateExperimentStatus,
} from "../runs/run-store.js";
import { runTrainingSession } from "../runs/training-session.js";
import type { TrainerThread, TrainHandle } from "../training-thread/trainer-thread.js";
import { trainRunJob } from "./train-run.definition.js";

export interface TrainRunContext {
  db: Db;
  publisher: RedisConnection;
  channels: PubSubChannels;
  webhooks: WebhookProducer;
  logger: Logger;
  trainer: TrainerThread;
  cancels: CancelWatcher;
  metrics: WorkerMetrics;
  workerId: string;
  backend: string;
  /** What this worker trains with, recorded on every run it starts. */
  provenance: TProvenance;
  cancelPollMs: number;
  heartbeatMs: number;
  checkpointIntervalMs: number;
  /** At most one live epoch event (SSE, job progress) per run this often. */
  liveEventMs: number;
  /** SIGTERM sets `requested` and stops `current`, the run in training. */
  shutdown: { requested: boolean; current: TrainHandle | null };
}

export type TrainRunOutcome = { outcome: "succeeded" | "canceled" | "skipped"; reason?: string };

/**
 * Trainer errors retrying cannot fix, so the run fails at once instead of after every BullMQ
 * attempt: the data is missing or smaller than asked for, or training diverged (same spec, same
 * seed, same backend: the same NaN again). The message tells the user what to do.
 */
const PERMANENT_TRAINER_CODES = new Set(["DATASET_UNAVAILABLE", "DATASET_TOO_SMALL", "TRAINING_DIVERGED"]);

/**
 * The training job's handler (docs/lifecycle.md): re-validate the payload and the
 * stored spec, mark the run running, train it (runTrainingSession), then finish it as
 * succeeded, canceled, handed back (shutdown) or failed.
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
  const deps: RunStoreDeps = {
    db: ctx.db,
    publisher: ctx.publisher,
    channels: ctx.channels,
    webhooks: ctx.webhooks,
    logger: log,
  };
  const ids = { runId, experimentId, workerId: ctx.workerId };

  const run = await loadRun(ctx.db, runId);
  if (!run) return { outcome: "skipped", reason: "run no longer exists" };
  if (run.status !== "queued" && run.status !== "running") {
    return { outcome: "skipped", reason: `run is already ${run.status}` };
  }
  if (run.cancelRequested) {
    await finishCanceled(deps, ids);
    return { outcome: "canceled" };
  }
  // The run trains its cell's spec: the experiment's with the swept values written in.
  const spec = cellSpec(run.experiment.spec, run.cell);
  const variant = ZVariant.safeParse(run.variant);
  if (!spec.ok || !variant.success) {
    const why = !spec.ok
      ? spec.why
      : variant.error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    const error = `the stored experiment spec is invalid (${why}); submit the experiment again`;
    await finishFailed(deps, { ...ids, error });
    throw new UnrecoverableError(error);
  }
  if (ctx.shutdown.requested) return handBack(deps, { ...ids, job, token });

  const started = await markRunning(ctx.db, {
    runId,
    workerId: ctx.workerId,
    backend: ctx.backend,
    provenance: ctx.provenance,
  });
  if (!started) return { outcome: "skipped", reason: "run finished meanwhile" };
  // From here on every write of the run carries this attempt (fencing, docs/lifecycle.md).
  const held = { ...ids, attempt: started.attempts };
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

  try {
    const { result, lost, position } = await runTrainingSession({
      job,
      ctx,
      deps,
      run,
      attempt: started.attempts,
      spec: spec.spec,
      variant: variant.data,
      log,
    });
    if (lost) throw new RunNotHeldError(`run ${runId} was taken over or finished elsewhere`);
    const stopped = { epochsCompleted: result.epochsCompleted, ...position };
    if (result.outcome === "canceled") {
      log.info(stopped, "run stopped by cancel");
      await finishCanceled(deps, held);
      ctx.metrics.runsFinished.inc({ outcome: "canceled" });
      return { outcome: "canceled" };
    }
    if (result.outcome === "shutdown") {
      log.info(stopped, "run stopped for shutdown");
      ctx.metrics.runsFinished.inc({ outcome: "handed_back" });
      return await handBack(deps, { ...held, job, token });
    }
    const { artifact, testAccuracy, testLoss, stoppedEarly } = result;
    if (!artifact || testAccuracy === null || testLoss === null) {
      throw new Error("trainer completed without a model artifact");
    }
    const { seconds } = await finishSucceeded(deps, {
      ...held,
      artifact,
      testAccuracy,
      testLoss,
      stoppedEarly,
    });
    ctx.metrics.runsFinished.inc({ outcome: "succeeded" });
    log.info({ testAccuracy, testLoss, seconds }, "run succeeded");
    return { outcome: "succeeded" };
  } catch (err) {
    if (err instanceof WaitingError) throw err;
    return await handleFailure(err as Error, { job, ctx, deps, ...held });
  }
}

/**
 * The stored spec with the run's cell applied, validated again as a whole spec; or why it
 * cannot be trained.
 */
function cellSpec(
  stored: unknown,
  cell: unknown,
): { ok: true; spec: TExperimentSpec } | { ok: false; why: string } {
  const issues = (e: { issues: { path: PropertyKey[]; message: string }[] }) =>
    e.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
  const parsed = ZExperimentSpec.safeParse(stored);
  if (!parsed.success) return { ok: false, why: issues(parsed.error) };
  try {
    const applied = ZExperimentSpec.safeParse(applyCell(parsed.data, (cell ?? {}) as TCell));
    return applied.success
      ? { ok: true, spec: applied.data }
      : { ok: false, why: `cell: ${issues(applied.error)}` };
  } catch (err) {
    return { ok: false, why: `cell: ${(err as Error).message}` };
  }
}

/**
 * Lost the run → drop it. A failure retrying cannot fix (missing dataset, data error) → run
 * failed, UnrecoverableError. Anything else → throw so BullMQ retries with backoff and the run
 * resumes from its checkpoint; on the final attempt the run is marked failed first.
 */
async function handleFailure(
  err: Error,
  {
    job,
    ctx,
    deps,
    runId,
    experimentId,
    attempt: runAttempt,
  }: {
    job: Job;
    ctx: TrainRunContext;
    deps: RunStoreDeps;
    runId: string;
    experimentId: string;
    attempt: number;
  },
): Promise<TrainRunOutcome> {
  const log = deps.logger;
  if (err instanceof RunNotHeldError) {
    log.warn({ err: err.message }, "run no longer held by this worker; dropping it");
    ctx.metrics.runsFinished.inc({ outcome: "error" });
    const current = await loadRun(ctx.db, runId);
    if (!current || (current.status !== "queued" && current.status !== "running")) {
      return { outcome: "skipped", reason: err.message };
    }
    throw err;
  }
  const code = (err as { code?: string }).code;
  const permanent = (code !== undefined && PERMANENT_TRAINER_CODES.has(code)) || isPermanentError(err);
  const attempt = job.attemptsMade + 1;
  if (permanent || attempt >= (job.opts.attempts ?? 1)) {
    const error = permanent ? err.message : `training failed after ${attempt} attempts: ${err.message}`;
    log.error({ err, permanent }, "run failed");
    await finishFailed(deps, { runId, experimentId, error, attempt: runAttempt });
    ctx.metrics.runsFinished.inc({ outcome: "failed" });
    if (permanent) throw new UnrecoverableError(error);
    throw err;
  }
  log.warn({ err: err.message, attemptsMade: attempt }, "run attempt failed; BullMQ will retry");
  ctx.metrics.runsFinished.inc({ outcome: "error" });
  throw err;
}
