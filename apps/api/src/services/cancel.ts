import type { TExperimentEvent } from "@actlab/contracts";
import { type Db, recordEvent, refreshExperimentStatus } from "@actlab/db";
import { type PubSubChannels, publishCancel, publishEvent, type TrainingProducer } from "@actlab/queue";
import type { Redis } from "ioredis";
import { QUEUE_TIMEOUT_MS, withTimeout } from "./timeout.js";

interface Logger {
  warn(obj: object, msg: string): void;
}

interface Deps {
  db: Db;
  redis: Redis;
  channels: PubSubChannels;
  producer: TrainingProducer;
  log: Logger;
}

/** Stores an event, then publishes it; a Redis outage loses only the live copy (SSE replays from Postgres). */
export async function emitEvent(
  { db, redis, channels, log }: Deps,
  experimentId: string,
  event: TExperimentEvent,
) {
  const stored = await recordEvent(db, experimentId, event);
  try {
    await withTimeout(
      publishEvent(redis, channels, experimentId, stored),
      QUEUE_TIMEOUT_MS,
      "publishing an event",
    );
  } catch (err) {
    log.warn({ err, experimentId, type: event.type }, "could not publish event");
  }
  return stored;
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
 * The cancel step of the run lifecycle (notes/LIFECYCLE.md §5): flag every unfinished run,
 * pull waiting jobs out of the queue and cancel those runs here, tell workers to stop the
 * running ones. Idempotent. Works without Redis too: the flag alone stops workers (they poll it).
 */
export async function cancelExperiment(deps: Deps, experimentId: string): Promise<void> {
  const { db, redis, producer, log } = deps;
  const open = await db.run.findMany({
    where: { experimentId, status: { in: ["queued", "running"] } },
    select: { id: true, status: true },
  });
  if (!open.length) return;
  await db.run.updateMany({
    where: { id: { in: open.map((r) => r.id) }, status: { in: ["queued", "running"] } },
    data: { cancelRequested: true },
  });

  const queued = open.filter((r) => r.status === "queued").map((r) => r.id);
  let leftQueue: string[] = [];
  try {
    const removed = await withTimeout(producer.removeWaiting(queued), QUEUE_TIMEOUT_MS, "removing jobs");
    const rest = queued.filter((id) => !removed.includes(id));
    const jobless = await withTimeout(runsWithoutJob(producer, rest), QUEUE_TIMEOUT_MS, "looking up jobs");
    leftQueue = [...removed, ...jobless];
  } catch (err) {
    log.warn(
      { err, experimentId },
      "could not remove queued jobs (Redis unavailable?); workers will skip them",
    );
  }

  for (const runId of leftQueue) {
    // Only if still queued: a worker may have taken it a moment ago, then it cancels it itself.
    const { count } = await db.run.updateMany({
      where: { id: runId, status: "queued" },
      data: { status: "canceled", finishedAt: new Date() },
    });
    if (count) await emitEvent(deps, experimentId, { type: "run.canceled", data: { experimentId, runId } });
  }

  const running = open.filter((r) => r.status === "running").map((r) => r.id);
  // Runs still queued with a job a worker holds are in flight too: tell whoever has them.
  const maybeHeld = queued.filter((id) => !leftQueue.includes(id));
  try {
    await withTimeout(
      publishCancel(redis, deps.channels, [...running, ...maybeHeld]),
      QUEUE_TIMEOUT_MS,
      "publishing cancel",
    );
  } catch (err) {
    log.warn({ err, experimentId }, "could not publish cancel; workers poll cancelRequested");
  }

  const change = await refreshExperimentStatus(db, experimentId);
  if (change?.finishedNow) {
    await emitEvent(deps, experimentId, {
      type: "experiment.finished",
      data: { experimentId, status: change.status },
    });
  }
}

/** Stops everything of the experiment, then deletes it with its runs, metrics, models and events. */
export async function deleteExperiment(deps: Deps, experimentId: string): Promise<void> {
  const runs = await deps.db.run.findMany({
    where: { experimentId, status: { in: ["queued", "running"] } },
    select: { id: true },
  });
  const ids = runs.map((r) => r.id);
  try {
    await withTimeout(deps.producer.removeWaiting(ids), QUEUE_TIMEOUT_MS, "removing jobs");
  } catch (err) {
    deps.log.warn(
      { err, experimentId },
      "could not remove queued jobs; workers skip runs that no longer exist",
    );
  }
  try {
    await withTimeout(publishCancel(deps.redis, deps.channels, ids), QUEUE_TIMEOUT_MS, "publishing cancel");
  } catch (err) {
    deps.log.warn({ err, experimentId }, "could not publish cancel");
  }
  await deps.db.experiment.deleteMany({ where: { id: experimentId } });
}
