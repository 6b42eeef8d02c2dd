import type { Db } from "../client.js";
import type { StoredEvent } from "./events.js";

/**
 * What the lifecycle's steps that announce something need: the database, a way to send a stored
 * event live (Redis pub/sub, which this package does not know; the caller bounds how long it may
 * take) and to enqueue the webhook deliveries it made, a logger, and how to retry a database step (the worker retries transient errors; the
 * API answers 503 instead, so it passes none).
 */
export interface LifecycleContext {
  db: Db;
  publish: (experimentId: string, event: StoredEvent) => Promise<unknown>;
  /**
   * Enqueues the webhook deliveries an event made (their ids; BullMQ, which this package does not
   * know either). Bounded by the caller like `publish`; a failure leaves them pending.
   */
  deliver: (deliveryIds: readonly string[]) => Promise<unknown>;
  log: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
  };
  retry?: <T>(step: () => Promise<T>) => Promise<T>;
}

export const retrying = <T>(ctx: LifecycleContext, step: () => Promise<T>): Promise<T> =>
  ctx.retry ? ctx.retry(step) : step();
