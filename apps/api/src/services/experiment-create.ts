import { createHash } from "node:crypto";
import { LIMITS, type TExperiment, type TExperimentSpec } from "@actlab/contracts";
import {
  type Db,
  insertExperiment,
  type NewExperiment,
  type NewRun,
  planExperiment,
  type RunView,
} from "@actlab/db";
import { rejectAfter, type TrainingProducer } from "@actlab/queue";
import { AppError } from "../errors.js";
import { canonicalJson } from "./canonical-json.js";
import { getExperiment } from "./experiment-read.js";
import { computeStatistics } from "./experiment-statistics.js";
import { toExperimentDto } from "./experiment-view.js";
import type { TenantTurns } from "./tenant-turns.js";

/** How long enqueueing may hold a creation (BullMQ waits for Redis indefinitely). */
export const QUEUE_TIMEOUT_MS = 2_000;

/** The hash of the *resolved* spec: bodies that mean the same experiment count as the same body. */
export function requestHash(spec: TExperimentSpec): string {
  return createHash("sha256").update(canonicalJson(spec)).digest("hex");
}

interface Logger {
  warn(obj: object, msg: string): void;
}

export interface CreateResult {
  experiment: TExperiment;
  /** True when an earlier request with the same Idempotency-Key created it. */
  replayed: boolean;
}

/**
 * Stores the experiment and its queued runs (or finds the one an earlier request with the same
 * Idempotency-Key made), then enqueues one job per run. Enqueueing is best effort: the rows are
 * the record, and the worker's reconciler enqueues queued runs that have no job.
 */
export async function createExperiment({
  db,
  producer,
  turns,
  log,
  tenantId,
  spec,
  idempotencyKey,
}: {
  db: Db;
  producer: TrainingProducer;
  /** Serializes this tenant's creations in this process before a connection is taken. */
  turns: TenantTurns;
  log: Logger;
  tenantId: string;
  spec: TExperimentSpec;
  idempotencyKey?: string | undefined;
}): Promise<CreateResult> {
  const plan = planExperiment({
    tenantId,
    spec,
    idempotencyKey: idempotencyKey ?? null,
    requestHash: idempotencyKey ? requestHash(spec) : null,
  });
  const outcome = await turns.run(tenantId, () =>
    insertExperiment(db, plan, { maxActiveRuns: LIMITS.maxActiveRunsPerTenant }),
  );
  if (outcome.kind === "existing") {
    if (outcome.requestHash !== plan.requestHash) {
      throw new AppError(
        "idempotencyConflict",
        "this Idempotency-Key was already used with a different request body; use a new key for a new experiment",
      );
    }
    return { experiment: await getExperiment({ db, tenantId, id: outcome.id }), replayed: true };
  }
  if (outcome.kind === "limited") {
    throw new AppError(
      "activeRunsLimit",
      `this tenant has ${outcome.active} queued or running runs and the experiment adds ${plan.runs.length}; ` +
        `at most ${LIMITS.maxActiveRunsPerTenant} may be active at once. Wait for some to finish or cancel some.`,
      { headers: { "retry-after": "60" } },
    );
  }

  try {
    await rejectAfter(
      producer.enqueueRuns(
        enqueueOrder(plan.runs).map((r) => ({ id: r.id, experimentId: plan.id, device: spec.device })),
      ),
      QUEUE_TIMEOUT_MS,
      "enqueueing runs",
    );
  } catch (err) {
    log.warn(
      { err, experimentId: plan.id },
      "could not enqueue runs (Redis unavailable?); the reconciler will",
    );
  }
  return { experiment: createdDto(plan), replayed: false };
}

/**
 * Jobs go into the queue repeat by repeat (then cell, then variant), so a big sweep's first
 * repeat covers every cell and variant before any second repeat starts: its heatmap and depth
 * curve fill in evenly, and an experiment cut short still compares every cell.
 */
export function enqueueOrder<R extends Pick<NewRun, "repeat" | "cellIndex" | "variantIndex">>(
  runs: readonly R[],
): R[] {
  return [...runs].sort(
    (a, b) => a.repeat - b.repeat || a.cellIndex - b.cellIndex || a.variantIndex - b.variantIndex,
  );
}

/** The new experiment as GET would show it, built from its rows without reading them back. */
function createdDto(plan: NewExperiment): TExperiment {
  const { spec } = plan;
  const runs: RunView[] = plan.runs.map((r) => ({
    ...r,
    experimentId: plan.id,
    status: "queued",
    device: spec.device,
    backend: null,
    attempts: 0,
    resumedFromEpoch: null,
    epochs: spec.training.epochs,
    epochsCompleted: 0,
    testAccuracy: null,
    testLoss: null,
    seconds: null,
    stoppedEarly: false,
    error: null,
    provenance: null,
    updatedAt: plan.createdAt,
  }));
  return toExperimentDto(
    {
      id: plan.id,
      name: spec.name,
      status: "queued",
      spec,
      createdAt: plan.createdAt,
      startedAt: null,
      finishedAt: null,
    },
    runs,
    computeStatistics(spec, runs, new Map()),
  );
}
