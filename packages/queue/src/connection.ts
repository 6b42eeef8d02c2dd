import { Redis, type RedisOptions } from "ioredis";

/**
 * Redis connections as BullMQ wants them. Workers (blocking commands) need
 * `maxRetriesPerRequest: null`; producers in a request path keep a bound so a Redis outage
 * turns into an error instead of a hung HTTP request.
 */
export function createRedis(url: string, { role }: { role: "worker" | "producer" | "subscriber" }): Redis {
  const options: RedisOptions = {
    maxRetriesPerRequest: role === "producer" ? 2 : null,
    enableOfflineQueue: role !== "producer",
    lazyConnect: false,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  };
  const redis = new Redis(url, options);
  // ioredis emits 'error' on every failed reconnect; without a listener Node would crash.
  redis.on("error", () => {});
  return redis;
}

/** Reads `maxmemory-policy`; BullMQ loses jobs under any policy but noeviction. */
export async function checkEvictionPolicy(redis: Redis): Promise<string | null> {
  try {
    const reply = (await redis.config("GET", "maxmemory-policy")) as string[];
    const policy = reply[1] ?? null;
    return policy === "noeviction"
      ? null
      : `Redis maxmemory-policy is ${policy}; BullMQ needs noeviction or queued runs may be evicted`;
  } catch {
    return null; // CONFIG may be disabled on managed Redis; nothing to check then.
  }
}
