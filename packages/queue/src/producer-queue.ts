import { Queue } from "bullmq";
import type { RedisConnection } from "./connection.js";
import { DEFAULT_PREFIX } from "./names.js";

/** Where a producer adds its jobs: the Redis connection and the deployment's key prefix. */
export interface ProducerOptions {
  connection: RedisConnection;
  prefix?: string;
}

/**
 * A queue to add jobs to. Its connection errors already reject the adds, which callers handle; the
 * listener only keeps an 'error' event without one from crashing the process.
 */
export function producerQueue(name: string, { connection, prefix = DEFAULT_PREFIX }: ProducerOptions): Queue {
  const queue = new Queue(name, { connection, prefix });
  queue.on("error", () => {});
  return queue;
}
