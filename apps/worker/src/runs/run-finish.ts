import {
  finishCanceled as cancelInLifecycle,
  finishFailed as failInLifecycle,
  type RunArtifact,
  finishSucceeded as succeedInLifecycle,
} from "@actlab/db";
import { type Job, WaitingError } from "bullmq";
import { lifecycleOf, markHandedBack, type RunStoreDeps, updateExperimentStatus } from "./run-store.js";

/**
 * The ways a run stops on this worker (docs/lifecycle.md): each changes the run, stores +
 * publishes its event, and recomputes the experiment status (announcing its end once). After
 * the run started here, each carries the attempt it started as, so a worker that lost the run
 * changes nothing.
 */

interface RunRef {
  runId: string;
  experimentId: string;
}

export async function finishSucceeded(
  deps: RunStoreDeps,
  args: RunRef & {
    attempt: number;
    artifact: RunArtifact;
    testAccuracy: number;
    testLoss: number;
    stoppedEarly: boolean;
  },
): Promise<{ seconds: number }> {
  return succeedInLifecycle(lifecycleOf(deps), args);
}

/** Without `attempt`: the run had not started here (a cancel found when the job arrived). */
export async function finishCanceled(
  deps: RunStoreDeps,
  { runId, experimentId, attempt }: RunRef & { attempt?: number },
) {
  const canceled = await cancelInLifecycle(lifecycleOf(deps), {
    runId,
    experimentId,
    ...(attempt !== undefined ? { attempt } : {}),
  });
  if (canceled) deps.logger.info("run canceled");
}

/** Without `attempt`: the run had not started here (its stored spec is invalid). */
export async function finishFailed(
  deps: RunStoreDeps,
  { runId, experimentId, error, attempt }: RunRef & { error: string; attempt?: number },
) {
  await failInLifecycle(lifecycleOf(deps), {
    runId,
    experimentId,
    error,
    ...(attempt !== undefined ? { attempt } : {}),
  });
}

/**
 * Shutdown: the last completed epoch is already checkpointed; mark the run queued again (if this
 * attempt holds it: without `attempt` it never started here) and put the job back in the wait
 * list (BullMQ's documented "manual retrying": moveToWait with the lock token, then WaitingError,
 * which is not counted as an attempt) so another worker takes it at once.
 */
export async function handBack(
  deps: RunStoreDeps,
  {
    job,
    token,
    runId,
    experimentId,
    attempt,
  }: RunRef & { job: Job; token: string | undefined; attempt?: number },
): Promise<never> {
  if (attempt !== undefined) await markHandedBack(deps.db, { runId, attempt });
  await updateExperimentStatus(deps, experimentId);
  await job.moveToWait(token);
  deps.logger.info("shutting down: run checkpointed and handed back to the queue");
  throw new WaitingError();
}
