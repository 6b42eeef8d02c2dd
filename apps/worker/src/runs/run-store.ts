import type { TEpochMetrics, TExperimentEvent } from "@actlab/contracts";
import {
  type Checkpoint,
  type Db,
  type Experiment,
  type Prisma,
  type Run,
  recordEvent,
  refreshExperimentStatus,
} from "@actlab/db";
import { type PubSubChannels, publishEvent } from "@actlab/queue";
import type { TModelArtifact, TrainCheckpoint } from "@actlab/trainer";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { withRetry, withTimeout } from "../retry.js";

/**
 * The run's rows as the lifecycle protocol (notes/LIFECYCLE.md) changes them. Every function
 * retries transient database errors; status changes only apply to runs that are not already
 * terminal, so a late or repeated call never resurrects a finished run.
 */

/** This worker no longer holds the run (another worker took it over, or it was finished meanwhile). */
export class RunNotHeldError extends Error {
  override name = "RunNotHeldError";
  readonly permanent = true;
}

export interface RunStoreDeps {
  db: Db;
  /** Fails fast while Redis is down: live events are best-effort (they are stored first). */
  publisher: Redis;
  /** This deployment's channels (QUEUE_PREFIX), where the API's SSE streams listen. */
  channels: PubSubChannels;
  logger: Logger;
}

const NOT_TERMINAL = { in: ["queued", "running"] as ("queued" | "running")[] };

export type LoadedRun = Run & { experiment: Experiment; checkpoint: Checkpoint | null };

export function loadRun(db: Db, runId: string): Promise<LoadedRun | null> {
  return withRetry(() =>
    db.run.findUnique({ where: { id: runId }, include: { experiment: true, checkpoint: true } }),
  );
}

/** Stores an event, then publishes it live (a failed publish is only logged: SSE replays stored events). */
export async function emitEvent(
  deps: RunStoreDeps,
  experimentId: string,
  event: TExperimentEvent,
): Promise<void> {
  const stored = await withRetry(() => recordEvent(deps.db, experimentId, event));
  try {
    const sent = await withTimeout(
      publishEvent(deps.publisher, deps.channels, experimentId, stored).then(() => true),
      2_000,
    );
    if (sent === undefined) deps.logger.warn({ event: event.type }, "live event publish timed out");
  } catch (err) {
    deps.logger.warn({ err, event: event.type }, "live event not published (it is stored)");
  }
}

/** Recomputes the experiment status and announces its end exactly once. */
export async function updateExperimentStatus(deps: RunStoreDeps, experimentId: string): Promise<void> {
  const change = await withRetry(() => refreshExperimentStatus(deps.db, experimentId));
  if (change?.finishedNow) {
    deps.logger.info({ experimentId, status: change.status }, "experiment finished");
    await emitEvent(deps, experimentId, {
      type: "experiment.finished",
      data: { experimentId, status: change.status },
    });
  }
}

/** queued|running → running, held by this worker. Returns the updated run or null if it is terminal. */
export async function markRunning(
  db: Db,
  { runId, workerId, backend }: { runId: string; workerId: string; backend: string },
): Promise<Run | null> {
  return withRetry(() =>
    db.$transaction(async (tx) => {
      const run = await tx.run.findUnique({ where: { id: runId }, select: { startedAt: true } });
      const { count } = await tx.run.updateMany({
        where: { id: runId, status: NOT_TERMINAL },
        data: {
          status: "running",
          attempts: { increment: 1 },
          startedAt: run?.startedAt ?? new Date(),
          backend,
          workerId,
          error: null,
        },
      });
      return count ? tx.run.findUnique({ where: { id: runId } }) : null;
    }),
  );
}

/**
 * Stores one epoch, in the protocol's order and in one transaction: metrics (upsert, so a
 * re-trained epoch replaces itself), the run's progress, the checkpoint. Throws RunNotHeldError
 * if this worker no longer holds the run. Returns whether a cancel was requested meanwhile.
 */
export async function storeEpoch(
  db: Db,
  {
    runId,
    workerId,
    metrics,
    checkpoint,
  }: { runId: string; workerId: string; metrics: TEpochMetrics; checkpoint: TrainCheckpoint },
): Promise<{ cancelRequested: boolean }> {
  const { epoch, gradNorms, deadFraction, saturatedFraction, preluAlphaMean, ...values } = metrics;
  // Scalar lists as `{ set }`: Prisma 7's query-plan cache parameterises those, but writes a bare
  // array's numbers into the cache key, so every epoch compiled a new plan (~4 ms) and kept it
  // (~17 KB, up to its 1,000-entry limit: +18 MB of worker heap, see docs/reliability.md).
  const row = {
    ...values,
    gradNorms: { set: gradNorms },
    deadFraction: { set: deadFraction },
    saturatedFraction: { set: saturatedFraction },
    preluAlphaMean: { set: preluAlphaMean ?? [] },
  };
  const weights = new Uint8Array(checkpoint.weights);
  const state = checkpoint.state as Prisma.InputJsonValue;
  return withRetry(() =>
    db.$transaction(async (tx) => {
      const held = await tx.$queryRaw<
        Array<{ status: string; workerId: string | null; cancelRequested: boolean }>
      >`
        SELECT status::text AS status, "workerId", "cancelRequested" FROM runs WHERE id = ${runId}::uuid FOR UPDATE`;
      const run = held[0];
      if (run?.status !== "running" || run.workerId !== workerId) {
        throw new RunNotHeldError(
          `run ${runId} is ${run?.status ?? "gone"} and held by ${run?.workerId ?? "nobody"}`,
        );
      }
      await tx.epochMetric.upsert({
        where: { runId_epoch: { runId, epoch } },
        create: { runId, epoch, ...row },
        update: row,
      });
      await tx.run.update({ where: { id: runId }, data: { epochsCompleted: epoch } });
      await tx.checkpoint.upsert({
        where: { runId },
        create: { runId, epoch: checkpoint.epoch, weights, state },
        update: { epoch: checkpoint.epoch, weights, state },
      });
      return { cancelRequested: run.cancelRequested };
    }),
  );
}

/** running → succeeded: the artifact, the summary (seconds summed over stored epochs), checkpoint dropped. */
export async function markSucceeded(
  db: Db,
  {
    runId,
    workerId,
    artifact,
    testAccuracy,
    testLoss,
  }: { runId: string; workerId: string; artifact: TModelArtifact; testAccuracy: number; testLoss: number },
): Promise<{ seconds: number }> {
  const weights = new Uint8Array(artifact.weights);
  const data = {
    topology: artifact.topology as Prisma.InputJsonValue,
    weightSpecs: artifact.weightSpecs as Prisma.InputJsonValue,
    weights,
    sha256: artifact.sha256,
    sizeBytes: weights.byteLength,
  };
  return withRetry(() =>
    db.$transaction(async (tx) => {
      const held = await tx.$queryRaw<Array<{ status: string; workerId: string | null }>>`
        SELECT status::text AS status, "workerId" FROM runs WHERE id = ${runId}::uuid FOR UPDATE`;
      const run = held[0];
      if (run?.status !== "running" || run.workerId !== workerId) {
        throw new RunNotHeldError(
          `run ${runId} is ${run?.status ?? "gone"} and held by ${run?.workerId ?? "nobody"}`,
        );
      }
      const sum = await tx.epochMetric.aggregate({ where: { runId }, _sum: { seconds: true } });
      const seconds = sum._sum.seconds ?? 0;
      await tx.modelArtifact.upsert({ where: { runId }, create: { runId, ...data }, update: data });
      await tx.run.update({
        where: { id: runId },
        data: { status: "succeeded", testAccuracy, testLoss, seconds, finishedAt: new Date(), error: null },
      });
      await tx.checkpoint.deleteMany({ where: { runId } });
      return { seconds };
    }),
  );
}

/** Any non-terminal status → failed with a message for the user. Returns false if it was terminal already. */
export async function markFailed(
  db: Db,
  { runId, error }: { runId: string; error: string },
): Promise<boolean> {
  const { count } = await withRetry(() =>
    db.run.updateMany({
      where: { id: runId, status: NOT_TERMINAL },
      data: { status: "failed", error: error.slice(0, 2_000), finishedAt: new Date() },
    }),
  );
  return count > 0;
}

/** Any non-terminal status → canceled. Returns false if it was terminal already. */
export async function markCanceled(db: Db, { runId }: { runId: string }): Promise<boolean> {
  const { count } = await withRetry(() =>
    db.run.updateMany({
      where: { id: runId, status: NOT_TERMINAL },
      data: { status: "canceled", finishedAt: new Date() },
    }),
  );
  return count > 0;
}

/** running (held by this worker) → queued, when the job is handed back to the queue on shutdown. */
export async function markHandedBack(db: Db, { runId, workerId }: { runId: string; workerId: string }) {
  await withRetry(() =>
    db.run.updateMany({
      where: { id: runId, status: "running", workerId },
      data: { status: "queued", workerId: null },
    }),
  );
}

/** Reads the cancel flag and whether this worker still holds the run; touches updatedAt when `touch`. */
export async function pollRun(
  db: Db,
  { runId, workerId, touch }: { runId: string; workerId: string; touch: boolean },
): Promise<{ cancelRequested: boolean; held: boolean }> {
  if (touch) {
    await db.run.updateMany({
      where: { id: runId, status: "running", workerId },
      data: { updatedAt: new Date() },
    });
  }
  const run = await db.run.findUnique({
    where: { id: runId },
    select: { cancelRequested: true, status: true, workerId: true },
  });
  return {
    cancelRequested: run?.cancelRequested ?? false,
    held: run?.status === "running" && run.workerId === workerId,
  };
}
