import { Cluster, type ClusterNode, Redis, type RedisOptions } from "ioredis";

/**
 * A connection to Redis: one server (`redis://`, `rediss://`) or a Redis Cluster
 * (`redis+cluster://host:port,host:port`, the seed nodes; ioredis learns the rest). Both speak
 * the same commands, BullMQ takes either, and pub/sub works on both (a cluster forwards every
 * PUBLISH to all its nodes).
 */
export type RedisConnection = Redis | Cluster;

const CLUSTER_SCHEME = /^redis(s?)\+cluster:\/\//;

/** Whether REDIS_URL names a Redis Cluster (`redis+cluster://` or `rediss+cluster://`). */
export function isClusterUrl(url: string): boolean {
  return CLUSTER_SCHEME.test(url);
}

/**
 * The seed nodes of a `redis+cluster://[user:password@]host:port,host:port` URL, and the
 * options every node connection takes from it (credentials, TLS for `rediss+cluster://`).
 */
export function parseClusterUrl(url: string): { nodes: ClusterNode[]; redisOptions: RedisOptions } {
  const match = CLUSTER_SCHEME.exec(url);
  if (!match) throw new Error(`not a redis+cluster:// URL: ${url}`);
  let rest = url.slice(match[0].length).replace(/\/.*$/, "");
  const redisOptions: RedisOptions = {};
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    const [user, password] = rest.slice(0, at).split(":");
    if (password === undefined) redisOptions.password = decodeURIComponent(user ?? "");
    else {
      if (user) redisOptions.username = decodeURIComponent(user);
      redisOptions.password = decodeURIComponent(password);
    }
    rest = rest.slice(at + 1);
  }
  if (match[1] === "s") redisOptions.tls = {};
  const nodes = rest
    .split(",")
    .filter(Boolean)
    .map((hostPort) => {
      const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostPort);
      if (!m) throw new Error(`bad cluster node "${hostPort}" in REDIS_URL (expected host:port)`);
      return { host: m[1]!.replace(/^\[|\]$/g, ""), port: Number(m[2] ?? 6379) };
    });
  if (!nodes.length) throw new Error("a redis+cluster:// URL needs at least one host:port");
  return { nodes, redisOptions };
}

/**
 * Redis connections as BullMQ wants them. Workers (blocking commands) need
 * `maxRetriesPerRequest: null`; producers in a request path keep a bound so a Redis outage
 * turns into an error instead of a hung HTTP request.
 */
export function createRedis(
  url: string,
  { role }: { role: "worker" | "producer" | "subscriber" },
): RedisConnection {
  const options: RedisOptions = {
    maxRetriesPerRequest: role === "producer" ? 2 : null,
    enableOfflineQueue: role !== "producer",
    lazyConnect: false,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  };
  let redis: RedisConnection;
  if (isClusterUrl(url)) {
    const { nodes, redisOptions } = parseClusterUrl(url);
    redis = new Cluster(nodes, {
      redisOptions: { ...redisOptions, maxRetriesPerRequest: options.maxRetriesPerRequest ?? null },
      enableOfflineQueue: options.enableOfflineQueue ?? true,
      lazyConnect: false,
      clusterRetryStrategy: (times) => Math.min(times * 200, 2_000),
      // A failover moves slots: follow MOVED/failover quickly instead of failing the command.
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 300,
      retryDelayOnTryAgain: 200,
      slotsRefreshTimeout: 2_000,
    });
  } else {
    redis = new Redis(url, options);
  }
  // ioredis emits 'error' on every failed reconnect; without a listener Node would crash.
  redis.on("error", () => {});
  return redis;
}

/** Reads `maxmemory-policy`; BullMQ loses jobs under any policy but noeviction. */
export async function checkEvictionPolicy(redis: RedisConnection): Promise<string | null> {
  try {
    const reply = (await redis.config("GET", "maxmemory-policy")) as unknown as string[];
    const policy = reply[1] ?? null;
    return policy === "noeviction"
      ? null
      : `Redis maxmemory-policy is ${policy}; BullMQ needs noeviction or queued runs may be evicted`;
  } catch {
    return null; // CONFIG may be disabled on managed Redis; nothing to check then.
  }
}

const pendingReady = new WeakMap<RedisConnection, Promise<void>>();

/**
 * Resolves when the connection is ready for commands (at once if it is); rejects if it is closed
 * for good first. Subscriber connections must wait for this before (un)subscribing: ioredis 5
 * (since 5.8.2) writes SUBSCRIBE during its connect handshake when asked early, where it races
 * the ready check's INFO (redis/ioredis#2037). The subscribe promise then resolves, yet the ready
 * check fails, the connection is dropped and reconnects, and messages published meanwhile are
 * lost; we saw a test subscriber hear nothing for 18 s. ioredis 6 fixes it; BullMQ 5 uses 5.
 */
export function whenReady(redis: RedisConnection): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  if (redis.status === "end" || redis.status === "disconnecting")
    return Promise.reject(new Error("the Redis connection is closed"));
  let p = pendingReady.get(redis);
  if (!p) {
    // One pair of listeners per connection however many callers wait (SSE streams during an outage).
    p = new Promise<void>((resolve, reject) => {
      // A Cluster closed before any node answered says "disconnecting" and may never say "end".
      const ends = ["end", "disconnecting"];
      const onReady = () => {
        for (const e of ends) redis.off(e, onEnd);
        resolve();
      };
      const onEnd = () => {
        redis.off("ready", onReady);
        for (const e of ends) redis.off(e, onEnd);
        reject(new Error("the Redis connection is closed"));
      };
      redis.once("ready", onReady);
      for (const e of ends) redis.once(e, onEnd);
    }).finally(() => pendingReady.delete(redis));
    pendingReady.set(redis, p);
  }
  return p;
}

/** SUBSCRIBE once the connection is ready (see whenReady); ioredis resubscribes after reconnects. */
export async function subscribeWhenReady(redis: RedisConnection, ...channels: string[]): Promise<void> {
  await whenReady(redis);
  await redis.subscribe(...channels);
}
