import type { TExperimentSpec, TVariant } from "@actlab/contracts";
import type { RunCheckpoint } from "@actlab/db";
import { resolveWithin } from "@actlab/queue";
import type { Job } from "bullmq";
import type { Logger } from "pino";
import type { TrainRunContext } from "../jobs/train-run.handler.js";
import type { ThreadTrainResult } from "../trainer/messages.js";
import { emitEvent, type LoadedRun, pollRun, type RunStoreDeps, storeEpoch } from "./run-store.js";

export interface SessionResult {
  result: ThreadTrainResult;
  /** This worker stopped holding the run while it trained (taken over or finished elsewhere). */
  lost: boolean;
  /** Where the trainer was when it returned (for logs). */
  position: { epoch: number; batch: number; batches: number };
  /** The last epoch's training state: a succeeded run keeps it, so it can be continued. */
  lastCheckpoint: RunCheckpoint | null;
}

/**
 * Trains a run this worker holds (status running as `attempt`) in the training thread and
 * stores every epoch as it arrives — in the protocol's order: metrics → run progress →
 * checkpoint (one transaction), then the event, then job.updateProgress. Meanwhile the run is
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
  let lastCheckpoint: RunCheckpoint | null = null;
  let position = { epoch: (run.checkpoint?.epoch ?? 0) + 1, batch: 0, batches: 0 };
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
    onBatch: (info) => {
      position = info;
      ctx.metrics.batches.inc();
    },
    onEpoch: async (metrics, checkpoint) => {
      const t0 = performance.now();
      // Checkpoints may come by time rather than every epoch: keep the newest one seen.
      if (checkpoint) lastCheckpoint = checkpoint;
      const { cancelRequested } = await storeEpoch(ctx.db, {
        runId,
        attempt,
        metrics,
        checkpoint,
      });
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
        },
        "epoch stored",
      );
    },
  });

  /** Sets the thread's stop flag (read before every batch) and logs where training was. */
  function requestStop(kind: "cancel" | "shutdown", source: string): void {
    if (handle.stopRequested()) return;
    handle.stop(kind);
    log.info({ kind, source, ...position }, "stop requested");
  }

  ctx.shutdown.current = { ...handle, stop: (kind) => requestStop(kind, "signal") };
  if (ctx.shutdown.requested) requestStop("shutdown", "signal");
  const unwatch = ctx.cancels.watch(runId, () => requestStop("cancel", "pub/sub"));
  let polls = 0;
  const touchEvery = Math.max(1, Math.round(ctx.heartbeatMs / ctx.cancelPollMs));
  const poller = setInterval(() => {
    polls++;
    pollRun(ctx.db, { runId, attempt, touch: polls % touchEvery === 0 })
      .then(({ cancelRequested, held }) => {
        if (cancelRequested) requestStop("cancel", "poll");
        if (!held) {
          lost = true;
          requestStop("shutdown", "run taken over");
        }
      })
      .catch((err: Error) => log.warn({ err: err.message }, "run poll failed"));
  }, ctx.cancelPollMs);
  ctx.metrics.busy.set(1);
  try {
    const result = await handle.result;
    return { result, lost, position, lastCheckpoint };
  } finally {
    clearInterval(poller);
    unwatch();
    ctx.shutdown.current = null;
    ctx.metrics.busy.set(0);
  }
}
