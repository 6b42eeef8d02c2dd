import { setTimeout as sleep } from "node:timers/promises";

/**
 * Prisma request errors about the data itself: retrying the same write cannot succeed. Every
 * other error (connection refused or dropped, "database is not accepting connections" — which
 * Prisma's driver adapter reports as P2039 —, pool timeouts, deadlocks) is treated as transient.
 */
const PERMANENT_PRISMA_CODES = new Set([
  "P2000", // value too long
  "P2001", // record searched for does not exist
  "P2002", // unique constraint
  "P2003", // foreign key constraint
  "P2004", // constraint failed
  "P2005", // invalid stored value
  "P2006", // invalid value
  "P2007", // data validation
  "P2011", // null constraint
  "P2012", // missing required value
  "P2013", // missing required argument
  "P2014", // relation violation
  "P2015", // related record not found
  "P2019", // input error
  "P2020", // value out of range
  "P2025", // record required but not found
]);

/**
 * Postgres errors about the data (SQLSTATE classes 22 data exception, 23 integrity constraint
 * violation) or the statement (42 syntax error or access rule violation), as node-postgres
 * reports them for the queries packages/db writes with Kysely.
 */
const PERMANENT_SQLSTATE = /^(22|23|42)[0-9A-Z]{3}$/;

/** Errors that retrying cannot fix; everything else is retried. */
export function isPermanentError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if ((err as { permanent?: boolean }).permanent) return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && (PERMANENT_PRISMA_CODES.has(code) || PERMANENT_SQLSTATE.test(code)))
    return true;
  return err.name === "PrismaClientValidationError" || err.name === "UnrecoverableError";
}

/**
 * Retries a database or Redis operation with exponential backoff (200 ms, 400 ms, … capped at
 * 3 s), so a blip of a few seconds does not fail a run. After `attempts` tries the last error
 * propagates, and BullMQ's own job retries (with their longer backoff) take over.
 */
export async function withRetry<T>(
  fn: () => Promise<T>,
  {
    attempts = 6,
    baseMs = 200,
    maxMs = 3_000,
    onRetry,
  }: {
    attempts?: number;
    baseMs?: number;
    maxMs?: number;
    onRetry?: (err: unknown, attempt: number) => void;
  } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || isPermanentError(err)) throw err;
      onRetry?.(err, attempt);
      await sleep(Math.min(maxMs, baseMs * 2 ** (attempt - 1)));
    }
  }
}
