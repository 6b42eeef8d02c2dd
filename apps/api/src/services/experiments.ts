import { createHash, randomUUID } from "node:crypto";
import {
  deriveRunSeed,
  LIMITS,
  type TExperiment,
  type TExperimentSpec,
  type TExperimentStatus,
} from "@actlab/contracts";
import { type Db, Prisma } from "@actlab/db";
import type { TrainingProducer } from "@actlab/queue";
import { AppError, notFound } from "../errors.js";
import { RUN_COLUMNS, type RunRow, toExperimentDto } from "./experiment-view.js";
import { QUEUE_TIMEOUT_MS, withTimeout } from "./timeout.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids that are not UUIDs cannot exist; answering 404 keeps them from reaching Postgres' uuid cast. */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}

/** JSON with sorted keys, so the same body always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The hash of the *resolved* spec: bodies that mean the same experiment count as the same body. */
export function requestHash(spec: TExperimentSpec): string {
  return createHash("sha256").update(canonicalJson(spec)).digest("hex");
}

// Namespace of the per-tenant advisory lock that makes the active-runs limit exact.
const TENANT_LOCK_NAMESPACE = 0x61637431; // "act1"

interface Logger {
  warn(obj: object, msg: string): void;
}

export interface CreateResult {
  experiment: TExperiment;
  /** True when an earlier request with the same Idempotency-Key created it. */
  replayed: boolean;
}

export async function createExperiment({
  db,
  producer,
  log,
  tenantId,
  spec,
  idempotencyKey,
}: {
  db: Db;
  producer: TrainingProducer;
  log: Logger;
  tenantId: string;
  spec: TExperimentSpec;
  idempotencyKey?: string | undefined;
}): Promise<CreateResult> {
  const hash = idempotencyKey ? requestHash(spec) : null;
  const now = new Date();
  const experimentId = randomUUID();
  const runs: RunRow[] = spec.variants.flatMap((variant, variantIndex) =>
    Array.from({ length: spec.training.repeats }, (_, repeat) => ({
      id: randomUUID(),
      experimentId,
      variantIndex,
      variant: variant as Prisma.JsonValue,
      repeat,
      seed: deriveRunSeed(spec.training.seed, repeat),
      status: "queued" as const,
      device: spec.device,
      backend: null,
      attempts: 0,
      epochs: spec.training.epochs,
      epochsCompleted: 0,
      testAccuracy: null,
      testLoss: null,
      seconds: null,
      error: null,
    })),
  );

  let existingId: string | null = null;
  try {
    existingId = await db.$transaction(async (tx) => {
      // One creation per tenant at a time, so two requests cannot both squeeze under the limit.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${TENANT_LOCK_NAMESPACE}::int, hashtext(${tenantId}))`;
      if (idempotencyKey) {
        const prior = await tx.experiment.findUnique({
          where: { tenantId_idempotencyKey: { tenantId, idempotencyKey } },
          select: { id: true, requestHash: true },
        });
        if (prior) return checkReplay(prior, hash);
      }
      const active = await tx.run.count({
        where: { status: { in: ["queued", "running"] }, experiment: { tenantId } },
      });
      if (active + runs.length > LIMITS.maxActiveRunsPerTenant) {
        throw new AppError(
          "activeRunsLimit",
          `this tenant has ${active} queued or running runs and the experiment adds ${runs.length}; ` +
            `at most ${LIMITS.maxActiveRunsPerTenant} may be active at once. Wait for some to finish or cancel some.`,
          { headers: { "retry-after": "60" } },
        );
      }
      await tx.experiment.create({
        data: {
          id: experimentId,
          tenantId,
          name: spec.name,
          spec: spec as Prisma.InputJsonValue,
          status: "queued",
          idempotencyKey: idempotencyKey ?? null,
          requestHash: hash,
          createdAt: now,
        },
      });
      await tx.run.createMany({
        data: runs.map((r) => ({
          ...r,
          variant: r.variant as Prisma.InputJsonValue,
          createdAt: now,
          updatedAt: now,
        })),
      });
      return null;
    });
  } catch (err) {
    // A concurrent request with the same key committed between our lookup and insert.
    if (idempotencyKey && err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002") {
      const prior = await db.experiment.findUnique({
        where: { tenantId_idempotencyKey: { tenantId, idempotencyKey } },
        select: { id: true, requestHash: true },
      });
      if (!prior) throw err;
      existingId = checkReplay(prior, hash);
    } else {
      throw err;
    }
  }

  if (existingId) {
    const experiment = await getExperiment({ db, tenantId, id: existingId });
    return { experiment, replayed: true };
  }

  try {
    await withTimeout(
      producer.enqueueRuns(runs.map((r) => ({ id: r.id, experimentId, device: spec.device }))),
      QUEUE_TIMEOUT_MS,
      "enqueueing runs",
    );
  } catch (err) {
    // The rows are stored; the worker's reconciler enqueues queued runs that have no job.
    log.warn({ err, experimentId }, "could not enqueue runs (Redis unavailable?); the reconciler will");
  }
  const experiment = toExperimentDto(
    {
      id: experimentId,
      name: spec.name,
      status: "queued",
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      spec,
    },
    runs,
  );
  return { experiment, replayed: false };
}

function checkReplay(prior: { id: string; requestHash: string | null }, hash: string | null): string {
  if (prior.requestHash !== hash) {
    throw new AppError(
      "idempotencyConflict",
      "this Idempotency-Key was already used with a different request body; use a new key for a new experiment",
    );
  }
  return prior.id;
}

/** Latest epoch's gradient norms of each run that has trained at least one epoch. */
export async function latestGradNorms(db: Db, runIds: readonly string[]): Promise<Map<string, number[]>> {
  if (!runIds.length) return new Map();
  const rows = await db.$queryRaw<Array<{ runId: string; gradNorms: number[] }>>`
    SELECT DISTINCT ON ("runId") "runId"::text AS "runId", "gradNorms"
    FROM epoch_metrics WHERE "runId" = ANY(${runIds as string[]}::uuid[])
    ORDER BY "runId", epoch DESC`;
  return new Map(rows.map((r) => [r.runId, r.gradNorms]));
}

export async function getExperiment({ db, tenantId, id }: { db: Db; tenantId: string; id: string }) {
  if (!isUuid(id)) throw notFound("experiment", id);
  const exp = await db.experiment.findFirst({
    where: { id, tenantId },
    select: {
      id: true,
      name: true,
      status: true,
      createdAt: true,
      startedAt: true,
      finishedAt: true,
      spec: true,
      runs: { select: RUN_COLUMNS },
    },
  });
  if (!exp) throw notFound("experiment", id);
  const trained = exp.runs.filter((r) => r.epochsCompleted > 0).map((r) => r.id);
  return toExperimentDto(exp, exp.runs, await latestGradNorms(db, trained));
}

/** Throws 404 unless the experiment exists and belongs to the tenant. */
export async function assertExperimentVisible({
  db,
  tenantId,
  id,
}: {
  db: Db;
  tenantId: string;
  id: string;
}) {
  if (!isUuid(id)) throw notFound("experiment", id);
  const exp = await db.experiment.findFirst({ where: { id, tenantId }, select: { id: true, status: true } });
  if (!exp) throw notFound("experiment", id);
  return exp as { id: string; status: TExperimentStatus };
}
