import type { TModelArtifact } from "@actlab/trainer";
import { type Job, WaitingError } from "bullmq";
import {
  emitEvent,
  markCanceled,
  markFailed,
  markHandedBack,
  markSucceeded,
  type RunStoreDeps,
  updateExperimentStatus,
} from "./run-store.js";

/**
 * The ways a run stops on this worker (notes/LIFECYCLE.md steps 4–5): each changes the run,
 * stores + publishes its event, and recomputes the experiment status (announcing its end once).
 */

export async function finishSucceeded(
  deps: RunStoreDeps,
  {
    runId,
    experimentId,
    workerId,
    artifact,
    testAccuracy,
    testLoss,
  }: {
    runId: string;
    experimentId: string;
    workerId: string;
    artifact: TModelArtifact;
    testAccuracy: number;
    testLoss: number;
  },
): Promise<{ seconds: number }> {
  const { seconds } = await markSucceeded(deps.db, { runId, workerId, artifact, testAccuracy, testLoss });
  await emitEvent(deps, experimentId, {
    type: "run.finished",
    data: { experimentId, runId, testAccuracy, testLoss, seconds },
  });
  await updateExperimentStatus(deps, experimentId);
  return { seconds };
}

export async function finishCanceled(
  deps: RunStoreDeps,
  { runId, experimentId }: { runId: string; experimentId: string },
) {
  if (await markCanceled(deps.db, { runId })) {
    await deps.db.checkpoint.deleteMany({ where: { runId } }).catch(() => {});
    await emitEvent(deps, experimentId, { type: "run.canceled", data: { experimentId, runId } });
    deps.logger.info("run canceled");
  }
  await updateExperimentStatus(deps, experimentId);
}

export async function finishFailed(
  deps: RunStoreDeps,
  { runId, experimentId, error }: { runId: string; experimentId: string; error: string },
) {
  if (await markFailed(deps.db, { runId, error })) {
    await emitEvent(deps, experimentId, { type: "run.failed", data: { experimentId, runId, error } });
  }
  await updateExperimentStatus(deps, experimentId);
}

/**
 * Shutdown: the last completed epoch is already checkpointed; mark the run queued again and put
 * the job back in the wait list (BullMQ's documented "manual retrying": moveToWait with the
 * lock token, then WaitingError, which is not counted as an attempt) so another worker takes
 * it at once.
 */
export async function handBack(
  deps: RunStoreDeps,
  {
    job,
    token,
    runId,
    experimentId,
    workerId,
  }: { job: Job; token: string | undefined; runId: string; experimentId: string; workerId: string },
): Promise<never> {
  await markHandedBack(deps.db, { runId, workerId });
  await updateExperimentStatus(deps, experimentId);
  await job.moveToWait(token);
  deps.logger.info("shutting down: run checkpointed and handed back to the queue");
  throw new WaitingError();
}
