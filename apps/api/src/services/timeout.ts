export class TimeoutError extends Error {
  override name = "TimeoutError";
  readonly code = "ETIMEDOUT";
}

/**
 * Rejects with TimeoutError after `ms`. BullMQ waits for a Redis connection indefinitely, so
 * every queue call on a request path goes through this: an outage must turn into a quick
 * answer, never a hung request.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** How long a queue operation on the request path may take. */
export const QUEUE_TIMEOUT_MS = 2_000;
