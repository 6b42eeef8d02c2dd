/*
 * Bounding how long a call may take. BullMQ and ioredis wait for a Redis connection indefinitely,
 * and a Postgres that stops answering holds a query for long; wherever an outage must become a
 * quick answer (a request path, a scrape, a best-effort publish), the call goes through one of
 * these two. (Neither cancels the call itself: it may still finish later, unobserved.)
 */

export class TimeoutError extends Error {
  override name = "TimeoutError";
  /** As a socket timeout reports itself, so callers that map errors to "unavailable" treat it so. */
  readonly code = "ETIMEDOUT";
}

/** `promise`, or a rejection with TimeoutError ("<what> took longer than <ms> ms") once `ms` have passed. */
export function rejectAfter<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** `promise`'s value, or undefined once `ms` have passed (its rejection still rejects). */
export function resolveWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
