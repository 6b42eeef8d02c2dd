import type { RedisConnection } from "@actlab/queue";

// INCRBY a fixed window's counter; the first increment of a window sets its expiry.
const LUA = `
local c = redis.call('INCRBY', KEYS[1], ARGV[1])
if c == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]); ttl = tonumber(ARGV[2]) end
return {c, ttl}`;

interface Slot {
  /** Requests counted here and not yet added in Redis. */
  pending: number;
  /** The Redis counter as of the last flush (all processes' requests). */
  known: number;
  /** Requests sent to Redis whose answer has not come back yet (counted, so a burst cannot slip past). */
  inFlight: number;
  /** When the Redis window ends (0 = unknown). */
  windowEnd: number;
}

type Callback = (err: Error | null, result?: { current: number; ttl: number }) => void;

type RedisWithRateLimit = RedisConnection & {
  actlabRateLimit(key: string, n: number, windowMs: number): Promise<[number, number]>;
};

/**
 * A @fastify/rate-limit store that keeps the count in Redis (shared by every API process) but
 * does not pay a Redis round trip on every request: far below the limit, increments are added
 * up locally and flushed every `flushMs`; from `exactFrom` (a fraction of max) on, every request
 * goes to Redis and the answer is exact. Other processes' requests are seen at this process's
 * next flush, so several processes together can overshoot by what they serve in one `flushMs`.
 * All keys' pending increments go out in one pipeline per `flushMs`. (The stock RedisStore costs
 * one EVALSHA per request, which measurably halved GET throughput.)
 */
export function batchedRedisStore({
  redis,
  prefix,
  flushMs = 100,
  exactFrom = 0.8,
}: {
  redis: RedisConnection;
  prefix: string;
  flushMs?: number;
  exactFrom?: number;
}) {
  const r = redis as unknown as RedisWithRateLimit;
  if (typeof (redis as unknown as Partial<RedisWithRateLimit>).actlabRateLimit !== "function") {
    redis.defineCommand("actlabRateLimit", { numberOfKeys: 1, lua: LUA });
  }
  const slots = new Map<string, Slot>();

  const flush = async (key: string, slot: Slot, windowMs: number): Promise<number> => {
    const n = slot.pending;
    slot.pending = 0;
    slot.inFlight += n;
    try {
      const [count, ttl] = await r.actlabRateLimit(prefix + key, n, windowMs);
      slot.known = Math.max(slot.known, count);
      slot.windowEnd = Date.now() + ttl;
      return count;
    } finally {
      slot.inFlight -= n;
    }
  };

  // Keys with increments not yet in Redis; one timer flushes all of them in one pipeline, so a
  // server answering many keys (many tenants) still makes one Redis round trip per flushMs.
  const dirty = new Map<string, { slot: Slot; windowMs: number }>();
  let timer: NodeJS.Timeout | null = null;
  const flushAll = () => {
    timer = null;
    const batch = [...dirty].filter(([, d]) => d.slot.pending > 0);
    dirty.clear();
    if (!batch.length) return;
    const pipeline = redis.pipeline() as unknown as RedisWithRateLimit & {
      exec(): Promise<Array<[Error | null, unknown]> | null>;
    };
    const sent = batch.map(([key, { slot, windowMs }]) => {
      const n = slot.pending;
      slot.pending = 0;
      slot.inFlight += n;
      pipeline.actlabRateLimit(prefix + key, n, windowMs);
      return { slot, n };
    });
    pipeline.exec().then(
      (results) => {
        sent.forEach(({ slot, n }, i) => {
          slot.inFlight -= n;
          const [err, res] = results?.[i] ?? [new Error("no reply"), null];
          if (err || !Array.isArray(res)) return;
          slot.known = Math.max(slot.known, Number(res[0]));
          slot.windowEnd = Date.now() + Number(res[1]);
        });
      },
      () => {
        for (const { slot, n } of sent) slot.inFlight -= n; // Redis down: those counts are lost
      },
    );
  };

  return class BatchedRedisStore {
    readonly defaults: { timeWindow: number; max: number };

    constructor(params: { timeWindow?: unknown; max?: unknown } = {}) {
      this.defaults = {
        timeWindow: typeof params.timeWindow === "number" ? params.timeWindow : 60_000,
        max: typeof params.max === "number" ? params.max : 1000,
      };
    }

    // @fastify/rate-limit passes the route's window and max; its typings only declare (key, cb).
    incr(key: string, cb: Callback, timeWindow = this.defaults.timeWindow, max = this.defaults.max) {
      const now = Date.now();
      let slot = slots.get(key);
      if (!slot || (slot.windowEnd && slot.windowEnd <= now && !slot.pending && !slot.inFlight)) {
        if (slots.size > 50_000) slots.clear(); // bounded: keys are API keys, so this is rare
        slot = { pending: 0, known: 0, inFlight: 0, windowEnd: 0 };
        slots.set(key, slot);
      }
      slot.pending++;
      const estimate = slot.known + slot.inFlight + slot.pending;
      if (estimate >= max * exactFrom) {
        const s = slot;
        flush(key, s, timeWindow).then(
          (current) => cb(null, { current, ttl: Math.max(0, s.windowEnd - Date.now()) }),
          (err) => cb(err as Error),
        );
        return;
      }
      dirty.set(key, { slot, windowMs: timeWindow });
      if (!timer) {
        timer = setTimeout(flushAll, flushMs);
        timer.unref();
      }
      cb(null, { current: estimate, ttl: slot.windowEnd ? Math.max(0, slot.windowEnd - now) : timeWindow });
    }

    child() {
      return new BatchedRedisStore(this.defaults);
    }
  };
}
