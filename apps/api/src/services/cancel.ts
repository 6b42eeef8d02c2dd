import {
  type Db,
  deleteExperimentRows,
  findOpenRuns,
  finishCanceled,
  type LifecycleContext,
  requestCancel,
  settleExperiment,
} from "@actlab/db";
import type { RedisConnection } from "@actlab/queue";
import {
  type PubSubChannels,
  publishCancel,
  publishEvent,
  rejectAfter,
  type TrainingProducer,
  type WebhookProducer,
} from "@actlab/queue";
import { QUEUE_TIMEOUT_MS } from "./experiment-create.js";

interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

interface Deps {
  db: Db;
  redis: RedisConnection;
  channels: PubSubChannels;
  producer: TrainingProducer;
  webhooks: WebhookProducer;
  log: Logger;
}

/** The run lifecycle as the API takes part in it: events go live on this deployment's channels, webhook deliveries to its queue. */
function lifecycle({ db, redis, channels, webhooks, log }: Deps): LifecycleContext {
  return {
    db,
    log,
    publish: (experimentId, event) =>
      rejectAfter(
        publishEvent(redis, channels, experimentId, event),
        QUEUE_TIMEOUT_MS,
        "publishing an event",
      ),
    deliver: (deliveryIds) =>
      rejectAfter(webhooks.enqueueDeliveries(deliveryIds), QUEUE_TIMEOUT_MS, "enqueueing webhook deliveries"),
  };
}

/** Job ids (= run ids) among these that have no BullMQ job at all. */
async function runsWithoutJob(producer: TrainingProducer, runIds: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const id of runIds) {
    const jobs = await Promise.all(Object.values(producer.queues).map((q) => q.getJob(id)));
    if (jobs.every((j) => !j)) out.push(id);
  }
  return out;
}

/**
 * The cancel step of the run lifecycle (docs/lifecycle.md): flag every unfinished run, pull
 * waiting jobs out of the queue and cancel those runs here, tell workers to stop the running
 * ones. Idempotent. Works without Redis too: the flag alone stops workers (they poll it).
 */
export async function cancelExperiment(deps: Deps, experimentId: string): Promise<void> {
  const { db, redis, producer, log } = deps;
  const open = await findOpenRuns(db, experimentId);
  if (!open.length) return;
  await requestCancel(
    db,
    open.map((r) => r.id),
  );

  const queued = open.filter((r) => r.status === "queued").map((r) => r.id);
  let leftQueue: string[] = [];
  try {
    const removed = await rejectAfter(producer.removeWaiting(queued), QUEUE_TIMEOUT_MS, "removing jobs");
    const rest = queued.filter((id) => !removed.includes(id));
    const jobless = await rejectAfter(runsWithoutJob(producer, rest), QUEUE_TIMEOUT_MS, "looking up jobs");
    leftQueue = [...removed, ...jobless];
  } catch (err) {
    log.warn(
      { err, experimentId },
      "could not remove queued jobs (Redis unavailable?); workers will skip them",
    );
  }

  const ctx = lifecycle(deps);
  for (const runId of leftQueue) {
    // Only if still queued: a worker may have taken it a moment ago, then it cancels it itself.
    await finishCanceled(ctx, { runId, experimentId, onlyIfQueued: true });
  }

  const running = open.filter((r) => r.status === "running").map((r) => r.id);
  // Runs still queued with a job a worker holds are in flight too: tell whoever has them.
  const maybeHeld = queued.filter((id) => !leftQueue.includes(id));
  try {
    await rejectAfter(
      publishCancel(redis, deps.channels, [...running, ...maybeHeld]),
      QUEUE_TIMEOUT_MS,
      "publishing cancel",
    );
  } catch (err) {
    log.warn({ err, experimentId }, "could not publish cancel; workers poll cancelRequested");
  }

  await settleExperiment(ctx, experimentId);
}

/** Stops everything of the experiment, then deletes it with its runs, metrics, models and events. */
export async function deleteExperiment(deps: Deps, experimentId: string): Promise<void> {
  const ids = (await findOpenRuns(deps.db, experimentId)).map((r) => r.id);
  try {
    await rejectAfter(deps.producer.removeWaiting(ids), QUEUE_TIMEOUT_MS, "removing jobs");
  } catch (err) {
    deps.log.warn(
      { err, experimentId },
      "could not remove queued jobs; workers skip runs that no longer exist",
    );
  }
  try {
    await rejectAfter(publishCancel(deps.redis, deps.channels, ids), QUEUE_TIMEOUT_MS, "publishing cancel");
  } catch (err) {
    deps.log.warn({ err, experimentId }, "could not publish cancel");
  }
  await deleteExperimentRows(deps.db, experimentId);
}
