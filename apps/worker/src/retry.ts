import { setTimeout as sleep } from "node:timers/promises";

/** Errors that retrying cannot fix; everything else (connection loss, timeouts, deadlocks) is retried. */
export function isPermanentError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if ((err as { permanent?: boolean }).permanent) return true;
  const code = (err as { code?: unknown }).code;
  // Prisma request errors (P2xxx) are about the data, except the pool timeout (P2024) and
  // write conflicts / deadlocks (P2034), which go away on retry.
  if (typeof code === "string" && /^P2\d{3}$/.test(code)) return code !== "P2024" && code !== "P2034";
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

/** Resolves to undefined when `promise` takes longer than `ms` (for best-effort Redis calls during an outage). */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
