import { randomBytes } from "node:crypto";
import { createRedis } from "@actlab/queue";
import { afterAll, describe, expect, it } from "vitest";
import { deletePrefix, TEST_REDIS_URL } from "../../../../tests/support/index.js";
import { batchedRedisStore } from "./rate-limit-store.js";

const redis = createRedis(TEST_REDIS_URL, { role: "subscriber" });
const prefix = `actlab-test-rl-${randomBytes(4).toString("hex")}:`;
afterAll(async () => {
  await deletePrefix(redis, prefix.slice(0, -1));
  redis.disconnect();
});

type Store = InstanceType<ReturnType<typeof batchedRedisStore>>;

function incr(store: Store, key: string, windowMs: number, max: number) {
  return new Promise<{ current: number; ttl: number }>((resolve, reject) =>
    store.incr(key, (err, res) => (err || !res ? reject(err) : resolve(res)), windowMs, max),
  );
}

describe("batchedRedisStore", () => {
  it("in one process: never allows more than max, and every request is counted in Redis", async () => {
    const S = batchedRedisStore({ redis, prefix, flushMs: 20 });
    const s = new S();
    const seen: number[] = [];
    for (let i = 0; i < 110; i++) seen.push((await incr(s, "key1", 60_000, 100)).current);
    expect(seen.filter((c) => c <= 100)).toHaveLength(100);
    expect(seen.slice(80)).toEqual(Array.from({ length: 30 }, (_, i) => 81 + i)); // exact from 80% on
    await expect.poll(async () => Number(await redis.get(`${prefix}key1`))).toBe(110);
    expect(await redis.pttl(`${prefix}key1`)).toBeGreaterThan(50_000);
  });

  it("across processes: each sees the others' requests after its next flush", async () => {
    const A = batchedRedisStore({ redis, prefix, flushMs: 20 });
    const B = batchedRedisStore({ redis, prefix, flushMs: 20 });
    const a = new A();
    const b = new B();
    for (let i = 0; i < 50; i++) await incr(a, "key3", 60_000, 1000);
    await new Promise((r) => setTimeout(r, 50));
    expect((await incr(b, "key3", 60_000, 1000)).current).toBe(1); // B has not heard yet
    await new Promise((r) => setTimeout(r, 50));
    expect((await incr(b, "key3", 60_000, 1000)).current).toBe(52);
  });

  it("starts a new window after the old one expired", async () => {
    const S = batchedRedisStore({ redis, prefix, flushMs: 5 });
    const s = new S();
    for (let i = 0; i < 3; i++) await incr(s, "key2", 200, 3);
    expect((await incr(s, "key2", 200, 3)).current).toBe(4);
    await new Promise((r) => setTimeout(r, 260));
    expect((await incr(s, "key2", 200, 3)).current).toBe(1);
  });
});
