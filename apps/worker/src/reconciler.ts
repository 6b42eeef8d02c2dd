import type { TDevice } from "@actlab/contracts";
import {
  type Db,
  findPendingDeliveries,
  findQueuedRunsUntouchedSince,
  findRunningRunsToCheck,
  findRunUpdatedAt,
  finishCanceled,
  finishFailed,
  recordDeliveryAttempt,
  requeueStaleRun,
  settleExperiment,
} from "@actlab/db";
import type { RedisConnection } from "@actlab/queue";
import { pubsubChannels, queueForDevice, type TrainingProducer, type WebhookProducer } from "@actlab/queue";
import type { Logger } from "pino";
import type { WorkerMetrics } from "./metrics.js";
import { lifecycleOf } from "./runs/run-store.js";

/** Job states in which someone will still process the job. */
const LIVE_STATES = new Set(["waiting", "active", "delayed", "prioritized", "waiting-children"]);

export interface ReconcilerDeps {
  db: Db;
  /** Producer-role connection (fails fast) for the lock and events. */
  redis: RedisConnection;
  producer: TrainingProducer;
  webhooks: WebhookProducer;
  prefix: string;
  workerId: string;
  logger: Logger;
  metrics: WorkerMetrics;
  /** A `running` run untouched this long with no live job is requeued. */
  staleMs: number;
  /** Queued runs younger than this are left to the API's own enqueue. */
  graceMs?: number;
  maxAttempts: number;
  lockMs: number;
}

/**
 * Postgres is the source of truth, Redis may lose jobs (a restart without persistence, the API
 * unable to enqueue). This pass makes the queue match the database again:
 * - a `queued` run with no live job gets one (or is canceled if a cancel was requested);
 * - a `running` run whose job is gone or finished and which nobody has touched for `staleMs`
 *   (its worker vanished) is queued again, or failed once it was started `maxAttempts` times;
 * - a `running` run with a cancel request and no live job is canceled at once;
 * - a pending webhook delivery is enqueued again (a no-op while its job exists: job id = delivery
 *   id), for deliveries whose enqueue after their event was stored did not happen;
 * - a pending delivery whose job BullMQ failed is marked failed: its worker stopped between an
 *   attempt and recording it until the job stalled too often, or recording the last attempt
 *   failed, and no job will try it again (adding one is a no-op while the failed one is kept).
 * Every worker runs it periodically; a Redis lock lets one pass run at a time.
 */
export async function reconcileOnce(deps: ReconcilerDeps): Promise<{ enqueued: number; requeued: number }> {
  const lockKey = `${deps.prefix}:actlab:reconciler-lock`;
  const got = await deps.redis.set(lockKey, deps.workerId, "PX", deps.lockMs, "NX");
  if (got !== "OK") return { enqueued: 0, requeued: 0 };
  const now = Date.now();
  let enqueued = 0;
  let requeued = 0;
  const ctx = lifecycle(deps);

  const queued = await findQueuedRunsUntouchedSince(deps.db, {
    before: new Date(now - (deps.graceMs ?? 10_000)),
    limit: 1_000,
  });
  for (const run of queued) {
    if (await hasLiveJob(deps, run)) continue;
    if (run.cancelRequested) {
      await cancelRun(deps, run);
      continue;
    }
    await enqueue(deps, run);
    enqueued++;
    deps.metrics.reconciled.inc({ action: "enqueued" });
    deps.logger.warn(
      { runId: run.id, experimentId: run.experimentId },
      "reconciler: queued run had no job; enqueued",
    );
  }

  const stale = await findRunningRunsToCheck(deps.db, { before: new Date(now - deps.staleMs), limit: 1_000 });
  for (const run of stale) {
    if (await hasLiveJob(deps, run)) continue;
    const log = deps.logger.child({ runId: run.id, experimentId: run.experimentId });
    if (run.cancelRequested) {
      // E.g. canceled while waiting for a retry: the API removed the delayed job, nobody holds the run.
      await cancelRun(deps, run);
      log.info("reconciler: canceled a running run that no job holds");
      continue;
    }
    if (!(await isStale(deps, run.id, now))) continue;
    if (run.attempts >= deps.maxAttempts) {
      const error = `training was interrupted ${run.attempts} times (worker lost each time); giving up — retry the experiment, with a smaller network if workers ran out of memory`;
      await finishFailed(ctx, {
        runId: run.id,
        experimentId: run.experimentId,
        error,
        attempt: run.attempts,
      });
      deps.metrics.reconciled.inc({ action: "failed" });
      log.error({ attempts: run.attempts }, "reconciler: run abandoned too often; failed");
      continue;
    }
    // Only if it is still this attempt, running and untouched: a worker may have just picked it up.
    const backInQueue = await requeueStaleRun(deps.db, {
      runId: run.id,
      attempt: run.attempts,
      staleBefore: new Date(now - deps.staleMs),
    });
    if (!backInQueue) continue;
    await settleExperiment(ctx, run.experimentId);
    await enqueue(deps, run);
    requeued++;
    deps.metrics.reconciled.inc({ action: "requeued" });
    log.warn(
      { lastWorker: run.workerId },
      "reconciler: running run had no live job and no heartbeat; requeued",
    );
  }
  const pending = await findPendingDeliveries(deps.db, {
    before: new Date(now - (deps.graceMs ?? 10_000)),
    limit: 1_000,
  });
  const abandoned = await deps.webhooks.abandonedDeliveries(pending);
  for (const [deliveryId, reason] of abandoned) {
    await recordDeliveryAttempt(deps.db, {
      deliveryId,
      attempt: {
        at: new Date(now).toISOString(),
        statusCode: null,
        error: `no outcome recorded: the delivery job failed (${reason}); not attempted again`,
        durationMs: 0,
      },
      status: "failed",
    });
    deps.logger.warn(
      { deliveryId, reason },
      "reconciler: delivery job failed without recording its outcome; marked failed",
    );
  }
  await deps.webhooks.enqueueDeliveries(pending.filter((id) => !abandoned.has(id)));
  return { enqueued, requeued };
}

/** The lifecycle as the reconciler takes part in it: events go live on the deployment's channels. */
function lifecycle(deps: ReconcilerDeps) {
  return lifecycleOf({
    db: deps.db,
    publisher: deps.redis,
    channels: pubsubChannels(deps.prefix),
    webhooks: deps.webhooks,
    logger: deps.logger,
  });
}

async function cancelRun(deps: ReconcilerDeps, run: { id: string; experimentId: string }) {
  await finishCanceled(lifecycle(deps), { runId: run.id, experimentId: run.experimentId });
  deps.metrics.reconciled.inc({ action: "canceled" });
}

async function isStale(deps: ReconcilerDeps, runId: string, now: number): Promise<boolean> {
  const updatedAt = await findRunUpdatedAt(deps.db, runId);
  return !!updatedAt && updatedAt.getTime() < now - deps.staleMs;
}

async function hasLiveJob(deps: ReconcilerDeps, run: { id: string; device: string }): Promise<boolean> {
  const queue = deps.producer.queues[queueForDevice(run.device as TDevice)];
  const job = await queue?.getJob(run.id);
  if (!job) return false;
  const state = await job.getState();
  if (LIVE_STATES.has(state)) return true;
  // Completed or failed while the run is not finished: the job id is taken, so drop the old job.
  try {
    await job.remove();
  } catch (err) {
    deps.logger.warn({ runId: run.id, err: (err as Error).message }, "reconciler: could not remove old job");
    return true;
  }
  return false;
}

async function enqueue(deps: ReconcilerDeps, run: { id: string; experimentId: string; device: string }) {
  await deps.producer.enqueueRuns([
    { id: run.id, experimentId: run.experimentId, device: run.device as TDevice },
  ]);
}

/** Runs reconcileOnce every `intervalMs` (first pass after `firstDelayMs`); errors are logged and retried next time. */
export function startReconciler(deps: ReconcilerDeps & { intervalMs: number; firstDelayMs?: number }): {
  stop(): void;
} {
  let stopped = false;
  let timer: NodeJS.Timeout;
  const tick = async () => {
    try {
      const r = await reconcileOnce(deps);
      if (r.enqueued || r.requeued) deps.logger.info(r, "reconciler pass");
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, "reconciler pass failed");
    }
    if (!stopped) timer = setTimeout(tick, deps.intervalMs);
  };
  timer = setTimeout(tick, deps.firstDelayMs ?? Math.min(5_000, deps.intervalMs));
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
