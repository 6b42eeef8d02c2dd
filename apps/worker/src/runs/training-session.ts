import type { TEpochMetrics, TExperimentSpec, TVariant } from "@actlab/contracts";
import { resolveWithin } from "@actlab/queue";
import type { Job } from "bullmq";
import type { Logger } from "pino";
import type { TrainRunContext } from "../jobs/train-run.handler.js";
import type { ThreadTrainResult } from "../training-thread/messages.js";
import { LiveEpochs } from "./live-epochs.js";
import {
  emitEvent,
  type LoadedRun,
  pollRun,
  type RunStoreDeps,
  storeCheckpoint,
  storeEpoch,
} from "./run-store.js";

export interface SessionResult {
  result: ThreadTrainResult;
  /** This worker stopped holding the run while it trained (taken over or finished elsewhere). */
  lost: boolean;
  /** Where the trainer was when it returned (for logs), and the batches it trained in this attempt. */
  position: { epoch: number; batch: number; batches: number; batchesTrained: number };
}

/**
 * Trains a run this worker holds (status running as `attempt`) in the training thread and
 * stores every epoch as it arrives — in the protocol's order: metrics → run progress →
 * checkpoint when one is due (one transaction; checkpoints come every CHECKPOINT_INTERVAL_MS,
 * at the end, and on a stop), then the live event and job.updateProgress, coalesced to one per
 * ctx.liveEventMs (the latest wins; Postgres keeps every epoch). Meanwhile the run is
 * stopped before its next batch by a cancel (pub/sub, or the flag read every cancelPollMs and
 * at every epoch), by SIGTERM (ctx.shutdown), or when another worker took it over; its
 * updatedAt is touched every heartbeatMs so the reconciler knows it is alive.
 */
export async function runTrainingSession({
  job,
  ctx,
  deps,
  run,
  attempt,
  spec,
  variant,
  log,
}: {
  job: Job;
  ctx: TrainRunContext;
  deps: RunStoreDeps;
  run: LoadedRun;
  /** The attempt this worker started the run as: every write carries it (fencing). */
  attempt: number;
  spec: TExperimentSpec;
  variant: TVariant;
  log: Logger;
}): Promise<SessionResult> {
  const { id: runId, experimentId } = run;
  let lost = false;
  let position = { epoch: (run.checkpoint?.epoch ?? 0) + 1, batch: 0, batches: 0 };
  let counted = 0;
  // Epochs up to here were stored, and announced, by an earlier attempt. A run killed after its
  // last checkpoint resumes from that checkpoint and trains those epochs again to identical
  // numbers (the epoch upsert keeps one row each); announcing them again would store their
  // run.epoch events twice (tests/reliability: crash).
  const storedBefore = run.epochsCompleted;
  const live = new LiveEpochs<TEpochMetrics>(ctx.liveEventMs, async (metrics) => {
    await emitEvent(deps, experimentId, {
      type: "run.epoch",
      data: { experimentId, runId, epochs: run.epochs, metrics },
    });
    await resolveWithin(
      job.updateProgress({ epoch: metrics.epoch, epochs: run.epochs }).catch((err: Error) => {
        log.warn({ err: err.message }, "job progress not updated");
      }),
      2_000,
    );
  });
  const handle = ctx.trainer.train({
    runId,
    spec,
    variant,
    seed: run.seed,
    resumeFrom: run.checkpoint
      ? {
          epoch: run.checkpoint.epoch,
          weights: run.checkpoint.weights,
          state: run.checkpoint.state as Record<string, unknown>,
        }
      : null,
    checkpointIntervalMs: ctx.checkpointIntervalMs,
    onBatch: (info) => {
      // Progress messages are throttled; the batch count comes from the thread's shared counter.
      position = info;
      const trained = handle.batchesTrained();
      ctx.metrics.batches.inc(trained - counted);
      counted = trained;
    },
    onEpoch: async (metrics, checkpoint) => {
      const t0 = performance.now();
      const { cancelRequested } = await storeEpoch(ctx.db, {
        runId,
        attempt,
        metrics,
        checkpoint,
      });
      if (metrics.epoch > storedBefore) live.push(metrics);
      if (cancelRequested) requestStop("cancel", "epoch check");
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
          checkpointed: checkpoint !== null,
        },
        "epoch stored",
      );
    },
    onCheckpoint: async (checkpoint) => {
      await storeCheckpoint(ctx.db, { runId, attempt, checkpoint });
      log.info({ epoch: checkpoint.epoch }, "checkpoint stored at stop");
    },
  });

  /** Sets the thread's stop flag (read before every batch) and logs where training was. */
  function requestStop(kind: "cancel" | "shutdown", source: string): void {
    if (handle.stopRequested()) return;
    handle.stop(kind);
    // batchesTrained is the training thread's own count at the signal; `position` trails it.
    log.info({ kind, source, ...position, batchesTrained: handle.batchesTrained() }, "stop requested");
  }

  ctx.shutdown.current = { ...handle, stop: (kind) => requestStop(kind, "signal") };
  if (ctx.shutdown.requested) requestStop("shutdown", "signal");
  const unwatch = ctx.cancels.watch(runId, () => requestStop("cancel", "pub/sub"));
  let polls = 0;
  // One poll at a time: while Postgres does not answer (a partition), polls every cancelPollMs
  // would pile up in the pool's queue and starve the epoch write, whose timeout is what hands
  // the run on (tests/distributed).
  let polling = false;
  const touchEvery = Math.max(1, Math.round(ctx.heartbeatMs / ctx.cancelPollMs));
  const poller = setInterval(() => {
    if (polling) return;
    polling = true;
    polls++;
    pollRun(ctx.db, { runId, attempt, touch: polls % touchEvery === 0 })
      .then(({ cancelRequested, held }) => {
        if (cancelRequested) requestStop("cancel", "poll");
        if (!held) {
          lost = true;
          requestStop("shutdown", "run taken over");
        }
      })
      .catch((err: Error) => log.warn({ err: err.message }, "run poll failed"))
      .finally(() => {
        polling = false;
      });
  }, ctx.cancelPollMs);
  ctx.metrics.busy.set(1);
  try {
    const result = await handle.result;
    await live.flush();
    return { result, lost, position: { ...position, batchesTrained: result.batchesTrained } };
  } finally {
    clearInterval(poller);
    unwatch();
    ctx.shutdown.current = null;
    ctx.metrics.busy.set(0);
  }
}
