import { isIP } from "node:net";
import type { RedisConnection } from "@actlab/queue";
import { rejectAfter } from "@actlab/queue";

// One fixed window per client: the first increment sets its expiry. Returns {count, ms left}.
const TAKE = `
local c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {c, ttl}`;
// Undoes a take whose lookup found a valid key. Never creates the counter (it may have expired meanwhile).
const GIVE_BACK = `
local c = tonumber(redis.call('GET', KEYS[1]) or '0')
if c > 0 then return redis.call('DECR', KEYS[1]) end
return 0`;

type RedisWithAuthFailures = RedisConnection & {
  actlabAuthFailTake(key: string, windowMs: number): Promise<[number, number]>;
  actlabAuthFailGiveBack(key: string): Promise<number>;
};

/**
 * Which counter a client shares: an IPv4 address, or an IPv6 /64 (one subscriber usually has a
 * whole /64, so counting single IPv6 addresses would be no limit at all). Anything that is not
 * an address (possible only through X-Forwarded-For with TRUST_PROXY) shares one counter.
 */
export function clientKey(ip: string): string {
  const bare = ip.replace(/%.*$/, ""); // IPv6 zone id
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return mapped[1]!;
  const family = isIP(bare);
  if (family === 4) return bare;
  if (family !== 6) return "not-an-ip";
  const [head = "", tail] = bare.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  // An embedded IPv4 tail (a.b.c.d) is two 16-bit groups.
  const groupsOf = (parts: string[]) => parts.reduce((n, p) => n + (p.includes(".") ? 2 : 1), 0);
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - groupsOf(left) - groupsOf(right)).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}

export type AuthGate =
  /** `counted`: this attempt is in the counter (not when Redis could not be asked), so giveBack may undo it. */
  { blocked: false; counted: boolean } | { blocked: true; retryAfterMs: number; firstBlock: boolean };

/**
 * Failed API-key attempts per client, counted in Redis under QUEUE_PREFIX so every API process
 * shares them (the per-key rate limit cannot help here: it is keyed by the key's row, so it only
 * applies once a key was found). `take` is called *before* a key is looked up in Postgres and
 * counts the attempt; `giveBack` uncounts it when the key turned out valid. So the counter holds
 * failures (plus attempts refused while over the limit), several simultaneous guesses cannot
 * slip past it, and a client over `limit` gets no lookup at all until its window ends: a flood
 * of made-up keys costs Postgres at most `limit` lookups per window per client.
 *
 * Once a client is over the limit, this process remembers it until the window ends, so the rest
 * of a flood costs no Redis round trip either. Redis unreachable or slow: the limit is skipped
 * (fail open, like the per-key limit), since refusing every new key would be worse.
 */
export class AuthFailureLimiter {
  private readonly redis: RedisWithAuthFailures;
  /** Clients this process knows are over the limit → when their window ends (ms epoch). */
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    redis: RedisConnection,
    private readonly opts: {
      prefix: string;
      limit: number;
      windowMs: number;
      redisTimeoutMs?: number;
      now?: () => number;
    },
  ) {
    this.redis = redis as unknown as RedisWithAuthFailures;
    if (typeof (redis as unknown as Partial<RedisWithAuthFailures>).actlabAuthFailTake !== "function") {
      redis.defineCommand("actlabAuthFailTake", { numberOfKeys: 1, lua: TAKE });
      redis.defineCommand("actlabAuthFailGiveBack", { numberOfKeys: 1, lua: GIVE_BACK });
    }
  }

  private key(client: string): string {
    return `${this.opts.prefix}:authfail:${client}`;
  }

  /** Counts one attempt by `ip` whose key must be looked up; says whether to refuse it instead. */
  async take(ip: string): Promise<AuthGate> {
    const client = clientKey(ip);
    const now = (this.opts.now ?? Date.now)();
    const until = this.blockedUntil.get(client);
    if (until !== undefined) {
      if (until > now) return { blocked: true, retryAfterMs: until - now, firstBlock: false };
      this.blockedUntil.delete(client);
    }
    let count: number;
    let ttl: number;
    try {
      [count, ttl] = await rejectAfter(
        this.redis.actlabAuthFailTake(this.key(client), this.opts.windowMs),
        this.opts.redisTimeoutMs ?? 1_000,
        "counting a failed API-key attempt",
      );
    } catch {
      return { blocked: false, counted: false };
    }
    if (count <= this.opts.limit) return { blocked: false, counted: true };
    if (this.blockedUntil.size >= 50_000) this.blockedUntil.clear(); // bounded; a flood from many clients
    this.blockedUntil.set(client, now + ttl);
    return { blocked: true, retryAfterMs: ttl, firstBlock: count === this.opts.limit + 1 };
  }

  /** The looked-up key was valid: that attempt was not a failure. */
  giveBack(ip: string): void {
    this.redis.actlabAuthFailGiveBack(this.key(clientKey(ip))).catch(() => {});
  }
}
