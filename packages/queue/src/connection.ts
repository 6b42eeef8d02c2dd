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

const pendingReady = new WeakMap<Redis, Promise<void>>();

/**
 * Resolves when the connection is ready for commands (at once if it is); rejects if it is closed
 * for good first. Subscriber connections must wait for this before (un)subscribing: ioredis 5
 * (since 5.8.2) writes SUBSCRIBE during its connect handshake when asked early, where it races
 * the ready check's INFO (redis/ioredis#2037). The subscribe promise then resolves, yet the ready
 * check fails, the connection is dropped and reconnects, and messages published meanwhile are
 * lost; we saw a test subscriber hear nothing for 18 s. ioredis 6 fixes it; BullMQ 5 uses 5.
 */
export function whenReady(redis: Redis): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  if (redis.status === "end") return Promise.reject(new Error("the Redis connection is closed"));
  let p = pendingReady.get(redis);
  if (!p) {
    // One pair of listeners per connection however many callers wait (SSE streams during an outage).
    p = new Promise<void>((resolve, reject) => {
      const onReady = () => {
        redis.off("end", onEnd);
        resolve();
      };
      const onEnd = () => {
        redis.off("ready", onReady);
        reject(new Error("the Redis connection is closed"));
      };
      redis.once("ready", onReady);
      redis.once("end", onEnd);
    }).finally(() => pendingReady.delete(redis));
    pendingReady.set(redis, p);
  }
  return p;
}

/** SUBSCRIBE once the connection is ready (see whenReady); ioredis resubscribes after reconnects. */
export async function subscribeWhenReady(redis: Redis, ...channels: string[]): Promise<void> {
  await whenReady(redis);
  await redis.subscribe(...channels);
}
