import type { TExperimentEvent, TProvenance } from "@actlab/contracts";
import {
  type Db,
  emitEvent as emitLifecycleEvent,
  handBackRun,
  type LifecycleContext,
  type LoadedRun,
  loadRun as loadStoredRun,
  pollRun as pollStoredRun,
  type RunCheckpoint,
  settleExperiment,
  startRun,
  storeCheckpoint as storeRunCheckpoint,
  storeEpoch as storeRunEpoch,
} from "@actlab/db";
import type { RedisConnection } from "@actlab/queue";
import { type PubSubChannels, publishEvent, rejectAfter, type WebhookProducer } from "@actlab/queue";
import type { Logger } from "pino";
import { withRetry } from "../retry.js";

export { type LoadedRun, RunNotHeldError } from "@actlab/db";

/**
 * The run lifecycle (packages/db, docs/lifecycle.md) as this worker takes part in it: every
 * database step retried through transient errors, live events published on this deployment's
 * channels. Writes after startRun carry the attempt it returned (fencing).
 */

export interface RunStoreDeps {
  db: Db;
  /** Fails fast while Redis is down: live events are best-effort (they are stored first). */
  publisher: RedisConnection;
  /** This deployment's channels (QUEUE_PREFIX), where the API's SSE streams listen. */
  channels: PubSubChannels;
  /** Enqueues the webhook deliveries of the events stored (on the publisher connection). */
  webhooks: WebhookProducer;
  logger: Logger;
}

/** How long publishing one live event (or enqueueing its deliveries) may take before it is given up (it is stored). */
const PUBLISH_TIMEOUT_MS = 2_000;

export function lifecycleOf(deps: RunStoreDeps): LifecycleContext {
  return {
    db: deps.db,
    log: deps.logger,
    retry: withRetry,
    publish: (experimentId, event) =>
      rejectAfter(
        publishEvent(deps.publisher, deps.channels, experimentId, event),
        PUBLISH_TIMEOUT_MS,
        "publishing a live event",
      ),
    deliver: (deliveryIds) =>
      rejectAfter(
        deps.webhooks.enqueueDeliveries(deliveryIds),
        PUBLISH_TIMEOUT_MS,
        "enqueueing webhook deliveries",
      ),
  };
}

export function loadRun(db: Db, runId: string): Promise<LoadedRun | null> {
  return withRetry(() => loadStoredRun(db, runId));
}

/** Stores an event, then publishes it live (a failed publish is only logged: SSE replays stored events). */
export async function emitEvent(
  deps: RunStoreDeps,
  experimentId: string,
  event: TExperimentEvent,
): Promise<void> {
  await emitLifecycleEvent(lifecycleOf(deps), experimentId, event);
}

/** Recomputes the experiment status and announces its end exactly once. */
export async function updateExperimentStatus(deps: RunStoreDeps, experimentId: string): Promise<void> {
  await settleExperiment(lifecycleOf(deps), experimentId);
}

/** queued|running → running as this worker's new attempt (`attempts` of the result). Null if terminal. */
export function markRunning(
  db: Db,
  args: { runId: string; workerId: string; backend: string; provenance: TProvenance },
) {
  return withRetry(() => startRun(db, args));
}

/**
 * Stores one epoch (metrics, progress, and the checkpoint if there is one). Throws
 * RunNotHeldError if `attempt` no longer holds the run. Returns whether a cancel was requested.
 */
export function storeEpoch(
  db: Db,
  args: {
    runId: string;
    attempt: number;
    metrics: Parameters<typeof storeRunEpoch>[1]["metrics"];
    checkpoint: RunCheckpoint | null;
  },
): Promise<{ cancelRequested: boolean }> {
  return withRetry(() => storeRunEpoch(db, args));
}

/** Stores a checkpoint alone (a stopped run's last one, when it is handed back). Fenced like storeEpoch. */
export function storeCheckpoint(db: Db, args: { runId: string; attempt: number; checkpoint: RunCheckpoint }) {
  return withRetry(() => storeRunCheckpoint(db, args));
}

/** running (as `attempt`) → queued, when the job is handed back to the queue on shutdown. */
export async function markHandedBack(db: Db, args: { runId: string; attempt: number }): Promise<void> {
  await withRetry(() => handBackRun(db, args));
}

/** Reads the cancel flag and whether `attempt` still holds the run; touches updatedAt when `touch`. */
export function pollRun(db: Db, args: { runId: string; attempt: number; touch: boolean }) {
  return pollStoredRun(db, args);
}
