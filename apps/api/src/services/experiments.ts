import { createHash, randomUUID } from "node:crypto";
import {
  deriveRunSeed,
  LIMITS,
  type TExperiment,
  type TExperimentSpec,
  type TExperimentStatus,
} from "@actlab/contracts";
import type { Db, Prisma } from "@actlab/db";
import type { TrainingProducer } from "@actlab/queue";
import type { Pool } from "pg";
import { AppError, notFound } from "../errors.js";
import { type RunRow, toExperimentDto } from "./experiment-view.js";
import type { TenantTurns } from "./tenant-turns.js";
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

/*
 * The two hottest paths (create, read one experiment) use SQL over node-postgres rather than
 * Prisma: measured on this machine, a Prisma interactive transaction alone costs more than the
 * whole baseline request (see apps/api/BENCH.md). Everything else goes through Prisma.
 */

/**
 * Checks the tenant's active runs and inserts the experiment with its runs in one statement
 * (one round trip). It runs after the tenant's advisory lock was taken in an earlier statement,
 * so its snapshot already sees every creation that held the lock before: the check is exact.
 * Inserts nothing when the limit would be exceeded; `active` says how many runs were active.
 *
 * The check has two steps, because counting runs was most of the database's work per creation
 * (bench: 0.70 against 0.48 ms of Postgres CPU per request for the baseline's plain inserts; 0.33
 * without any count). First `bound`: the sum of `runCount` over the tenant's queued or running
 * experiments, read through the (tenantId, status) index. An active run belongs to an active
 * experiment (an experiment is queued or running until its last run is terminal, see
 * refreshExperimentStatus, and a terminal run never becomes active again), so the sum is never
 * below the active runs, and when it leaves room the experiment fits. Only when it does not (or
 * an experiment's runCount is unknown) does `exact` count the runs, per active experiment through
 * the runs (experimentId, …) index; CASE evaluates that subquery only in that branch.
 * The status test in `exact` is a FILTER, not a WHERE, so it cannot become an index condition:
 * with stale statistics the planner otherwise ANDed in the status index per experiment (95 ms
 * at 26k queued runs).
 * (The runs' foreign key to the experiment inserted by the CTE is checked at the end of the statement.)
 */
const INSERT_EXPERIMENT_WITH_RUNS = {
  // Named: parsed and planned once per connection, then only bound and executed.
  name: "actlab-create-experiment",
  text: `
  WITH bound AS (
    SELECT COALESCE(sum(e."runCount"), 0)::int AS total, COALESCE(bool_or(e."runCount" IS NULL), false) AS unknown
    FROM experiments e WHERE e."tenantId" = $2 AND e.status IN ('queued', 'running')
  ), allowed AS (
    SELECT CASE WHEN NOT b.unknown AND b.total + $8 <= $9 THEN b.total ELSE (
      SELECT COALESCE(sum((
        SELECT count(*) FILTER (WHERE r.status IN ('queued', 'running')) FROM runs r WHERE r."experimentId" = e.id
      )), 0)::int
      FROM experiments e WHERE e."tenantId" = $2 AND e.status IN ('queued', 'running')
    ) END AS active
    FROM bound b
  ), exp AS (
    INSERT INTO experiments (id, "tenantId", name, spec, status, "idempotencyKey", "requestHash", "runCount", "createdAt")
    SELECT $1, $2, $3, $4::jsonb, 'queued', $5, $6, $8, $7::timestamp FROM allowed WHERE allowed.active + $8 <= $9
    RETURNING id
  ), ins AS (
    INSERT INTO runs (id, "experimentId", "variantIndex", variant, repeat, seed, device, epochs, "createdAt", "updatedAt")
    SELECT r.id, exp.id, r."variantIndex", r.variant, r.repeat, r.seed, $10, $11, $7::timestamp, $7::timestamp
    FROM exp, jsonb_to_recordset($12::jsonb) AS r(id uuid, "variantIndex" int, variant jsonb, repeat int, seed int)
    RETURNING 1
  )
  SELECT (SELECT active FROM allowed) AS active, (SELECT count(*)::int FROM ins) AS inserted`,
};
const FIND_BY_KEY = `SELECT id, "requestHash" FROM experiments WHERE "tenantId" = $1 AND "idempotencyKey" = $2`;

export async function createExperiment({
  sql,
  producer,
  turns,
  log,
  tenantId,
  spec,
  idempotencyKey,
}: {
  sql: Pool;
  producer: TrainingProducer;
  /** Serializes this tenant's creations in this process before a connection is taken. */
  turns: TenantTurns;
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

  const row: NewExperiment = {
    tenantId,
    spec,
    idempotencyKey,
    hash,
    experimentId,
    runs,
    at: now.toISOString(),
  };
  const existingId = await turns.run(tenantId, () => insertUnderTenantLock(sql, row));

  if (existingId) {
    const experiment = await getExperiment({ sql, tenantId, id: existingId });
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

/** The rows of one creation, built before its transaction. */
interface NewExperiment {
  tenantId: string;
  spec: TExperimentSpec;
  idempotencyKey: string | undefined;
  hash: string | null;
  experimentId: string;
  runs: RunRow[];
  /** ISO time; stored as UTC in `timestamp` columns, as Prisma does (the cast ignores the "Z"). */
  at: string;
}

/**
 * The transaction of a creation: the tenant's advisory lock, the Idempotency-Key lookup, then the
 * limit check and inserts (one statement). Returns the id of an earlier experiment made with the
 * same key and body, or null when this call inserted the new one.
 */
async function insertUnderTenantLock(
  sql: Pool,
  { tenantId, spec, idempotencyKey, hash, experimentId, runs, at }: NewExperiment,
): Promise<string | null> {
  let existingId: string | null = null;
  const client = await sql.connect();
  try {
    // One creation per tenant at a time, so two requests cannot both squeeze under the limit.
    // Sent with BEGIN as one simple query (both numbers are ours), saving a round trip.
    // jit off for this transaction: the insert's generic plan is estimated above jit_above_cost
    // once the tables grow, and Postgres then spent ~25 ms compiling for a ~1 ms statement
    // (seen in EXPLAIN ANALYZE during the bench: what made POST fall from ~700 to ~100 req/s).
    await client.query(
      `BEGIN; SET LOCAL jit = off; SELECT pg_advisory_xact_lock(${TENANT_LOCK_NAMESPACE}, ${tenantLockKey(tenantId)})`,
    );
    if (idempotencyKey) {
      const prior = await client.query<{ id: string; requestHash: string | null }>(FIND_BY_KEY, [
        tenantId,
        idempotencyKey,
      ]);
      if (prior.rows[0]) existingId = checkReplay(prior.rows[0], hash);
    }
    if (!existingId) {
      const runsJson = JSON.stringify(
        runs.map((r) => ({
          id: r.id,
          variantIndex: r.variantIndex,
          variant: r.variant,
          repeat: r.repeat,
          seed: r.seed,
        })),
      );
      const { active, inserted } = (
        await client.query<{ active: number; inserted: number }>(INSERT_EXPERIMENT_WITH_RUNS, [
          experimentId,
          tenantId,
          spec.name,
          JSON.stringify(spec),
          idempotencyKey ?? null,
          hash,
          at,
          runs.length,
          LIMITS.maxActiveRunsPerTenant,
          spec.device,
          spec.training.epochs,
          runsJson,
        ])
      ).rows[0]!;
      if (inserted !== runs.length) {
        throw new AppError(
          "activeRunsLimit",
          `this tenant has ${active} queued or running runs and the experiment adds ${runs.length}; ` +
            `at most ${LIMITS.maxActiveRunsPerTenant} may be active at once. Wait for some to finish or cancel some.`,
          { headers: { "retry-after": "60" } },
        );
      }
    }
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    // The advisory lock makes a duplicate key unlikely, but the unique index is the guarantee.
    if (idempotencyKey && (err as { code?: string }).code === "23505") {
      const prior = await sql.query<{ id: string; requestHash: string | null }>(FIND_BY_KEY, [
        tenantId,
        idempotencyKey,
      ]);
      if (!prior.rows[0]) throw err;
      existingId = checkReplay(prior.rows[0], hash);
    } else {
      throw err;
    }
  } finally {
    client.release();
  }

  return existingId;
}

/** 32-bit FNV-1a of the tenant id, as a signed int: the second key of its advisory lock. */
export function tenantLockKey(tenantId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < tenantId.length; i++) {
    h ^= tenantId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
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
export async function latestGradNorms(sql: Pool, runIds: readonly string[]): Promise<Map<string, number[]>> {
  if (!runIds.length) return new Map();
  const { rows } = await sql.query<{ runId: string; gradNorms: number[] }>(
    `SELECT DISTINCT ON ("runId") "runId", "gradNorms" FROM epoch_metrics
     WHERE "runId" = ANY($1::uuid[]) ORDER BY "runId", epoch DESC`,
    [runIds],
  );
  return new Map(rows.map((r) => [r.runId, r.gradNorms]));
}

const GET_EXPERIMENT = `
  SELECT e.id, e.name, e.status, e.spec,
    e."createdAt" AT TIME ZONE 'UTC' AS "createdAt",
    e."startedAt" AT TIME ZONE 'UTC' AS "startedAt",
    e."finishedAt" AT TIME ZONE 'UTC' AS "finishedAt",
    COALESCE((SELECT json_agg(r ORDER BY r."variantIndex", r.repeat) FROM (
      SELECT id, "experimentId", "variantIndex", variant, repeat, seed, status, device, backend, attempts,
             epochs, "epochsCompleted", "testAccuracy", "testLoss", seconds, error
      FROM runs WHERE "experimentId" = e.id) r), '[]'::json) AS runs
  FROM experiments e WHERE e.id = $1 AND e."tenantId" = $2`;

/** One experiment of the tenant with its runs and summary, in one query (plus one once runs have trained). */
export async function getExperiment({ sql, tenantId, id }: { sql: Pool; tenantId: string; id: string }) {
  if (!isUuid(id)) throw notFound("experiment", id);
  const { rows } = await sql.query<{
    id: string;
    name: string;
    status: TExperimentStatus;
    spec: unknown;
    createdAt: Date;
    startedAt: Date | null;
    finishedAt: Date | null;
    runs: RunRow[];
  }>({ name: "actlab-get-experiment", text: GET_EXPERIMENT }, [id, tenantId]);
  const exp = rows[0];
  if (!exp) throw notFound("experiment", id);
  const trained = exp.runs.filter((r) => r.epochsCompleted > 0).map((r) => r.id);
  return toExperimentDto(
    exp as Parameters<typeof toExperimentDto>[0],
    exp.runs,
    await latestGradNorms(sql, trained),
  );
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
