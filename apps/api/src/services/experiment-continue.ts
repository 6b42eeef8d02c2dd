import { LIMITS, type TDevice } from "@actlab/contracts";
import { continueExperiment, type Db, type RunRefusal } from "@actlab/db";
import { rejectAfter, type TrainingProducer } from "@actlab/queue";
import { AppError, notFound } from "../errors.js";
import { QUEUE_TIMEOUT_MS } from "./experiment-create.js";
import { isUuid } from "./uuid.js";

interface Logger {
  warn(obj: object, msg: string): void;
}

/**
 * `POST /v1/experiments/:id/continue`: extends a finished experiment's resumable runs to `epochs`
 * (continueExperiment in packages/db: the succeeded ones with a checkpoint — in a partial or
 * canceled experiment, those that finished), then enqueues them again; returns the runs that stay
 * as they were and why. A 409 only when no run can continue. Enqueueing is best effort, as at
 * creation: the queued rows are the record and the reconciler enqueues queued runs without a
 * job. Asking again for the same total changes nothing and enqueues what is still queued, so a
 * retry after a Redis blip is safe.
 */
export async function continueRuns({
  db,
  producer,
  log,
  tenantId,
  id,
  epochs,
}: {
  db: Db;
  producer: TrainingProducer;
  log: Logger;
  tenantId: string;
  id: string;
  epochs: number;
}): Promise<{ notContinued: RunRefusal[] }> {
  if (!isUuid(id)) throw notFound("experiment", id);
  const outcome = await continueExperiment(db, {
    experimentId: id,
    tenantId,
    epochs,
    maxActiveRuns: LIMITS.maxActiveRunsPerTenant,
  });
  switch (outcome.kind) {
    case "notFound":
      throw notFound("experiment", id);
    case "shorter":
      throw new AppError(
        "conflict",
        `the experiment already has ${outcome.epochs} epochs; continue only adds epochs`,
        {
          errors: [{ path: "epochs", message: `must be more than ${outcome.epochs}` }],
        },
      );
    case "open":
      throw new AppError(
        "conflict",
        `${outcome.openRuns} run(s) are still queued or running; continue once the experiment has finished`,
      );
    case "refused":
      throw new AppError(
        "conflict",
        `none of the ${outcome.runs.length} run(s) can continue; nothing was changed`,
        {
          errors: outcome.runs.map((r) => ({ path: `runs.${r.runId}`, message: r.reason })),
        },
      );
    case "limited":
      throw new AppError(
        "activeRunsLimit",
        `this tenant has ${outcome.active} queued or running runs; at most ${LIMITS.maxActiveRunsPerTenant} ` +
          "may be active at once. Wait for some to finish or cancel some.",
        { headers: { "retry-after": "60" } },
      );
  }
  const runs = outcome.kind === "continued" ? outcome.runs : outcome.queuedRuns;
  const result = { notContinued: outcome.notContinued };
  if (!runs.length) return result;
  try {
    await rejectAfter(
      (async () => {
        await producer.removeFinished(runs.map((r) => r.id));
        await producer.enqueueRuns(
          runs.map((r) => ({ id: r.id, experimentId: id, device: r.device as TDevice })),
        );
      })(),
      QUEUE_TIMEOUT_MS * 2,
      "enqueueing continued runs",
    );
  } catch (err) {
    log.warn(
      { err, experimentId: id },
      "could not enqueue continued runs (Redis unavailable?); the reconciler will",
    );
  }
  return result;
}
