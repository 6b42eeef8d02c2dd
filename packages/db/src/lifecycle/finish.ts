import { type LifecycleContext, retrying } from "./context.js";
import { emitEvent } from "./events.js";
import { settleExperiment } from "./experiment-status.js";
import { cancelRun, failRun, type RunSuccess, succeedRun } from "./runs.js";

/*
 * The ways a run ends (docs/lifecycle.md): each changes the run, stores and publishes its event
 * if it did, and settles the experiment (announcing its end once). The API, the worker and the
 * reconciler all end runs through these.
 */

interface RunRef {
  runId: string;
  experimentId: string;
}

/** running (as `attempt`) → succeeded, with its model; `run.finished`. Throws RunNotHeldError if not held. */
export async function finishSucceeded(
  ctx: LifecycleContext,
  { experimentId, ...success }: RunRef & RunSuccess,
): Promise<{ seconds: number }> {
  const { runId, testAccuracy, testLoss } = success;
  const { seconds } = await retrying(ctx, () => succeedRun(ctx.db, success));
  await emitEvent(ctx, experimentId, {
    type: "run.finished",
    data: { experimentId, runId, testAccuracy, testLoss, seconds },
  });
  await settleExperiment(ctx, experimentId);
  return { seconds };
}

/** → canceled (see cancelRun for `attempt` and `onlyIfQueued`); `run.canceled` if it changed the run. */
export async function finishCanceled(
  ctx: LifecycleContext,
  { runId, experimentId, attempt, onlyIfQueued }: RunRef & { attempt?: number; onlyIfQueued?: boolean },
): Promise<boolean> {
  const changed = await retrying(ctx, () =>
    cancelRun(ctx.db, {
      runId,
      ...(attempt !== undefined ? { attempt } : {}),
      ...(onlyIfQueued ? { onlyIfQueued } : {}),
    }),
  );
  if (changed) await emitEvent(ctx, experimentId, { type: "run.canceled", data: { experimentId, runId } });
  await settleExperiment(ctx, experimentId);
  return changed;
}

/** → failed with a message for the user (see failRun for `attempt`); `run.failed` if it changed the run. */
export async function finishFailed(
  ctx: LifecycleContext,
  { runId, experimentId, error, attempt }: RunRef & { error: string; attempt?: number },
): Promise<boolean> {
  const changed = await retrying(ctx, () =>
    failRun(ctx.db, { runId, error, ...(attempt !== undefined ? { attempt } : {}) }),
  );
  if (changed)
    await emitEvent(ctx, experimentId, { type: "run.failed", data: { experimentId, runId, error } });
  await settleExperiment(ctx, experimentId);
  return changed;
}
