import type { RedisConnection } from "@actlab/queue";
import { createRedis } from "@actlab/queue";
import { Queue } from "bullmq";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deletePrefix, TEST_REDIS_URL, testPrefix } from "../../../tests/support/index.js";
import { waitFor } from "./__tests__/helpers.js";
import { type ExclusiveWorkers, startExclusiveWorkers } from "./exclusive-workers.js";

// Real Redis and real BullMQ workers; the processor only sleeps, so this checks the queue
// logic of a GPU worker (two queues, one job at a time) without a GPU.

let redis: RedisConnection;
let prefix: string;
let consumers: ExclusiveWorkers | null = null;
const queues: Queue[] = [];

beforeEach(() => {
  redis = createRedis(TEST_REDIS_URL, { role: "worker" });
  prefix = testPrefix("exclusive");
});

afterEach(async () => {
  await consumers?.close();
  consumers = null;
  for (const q of queues.splice(0)) await q.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe("startExclusiveWorkers", () => {
  it("processes jobs of two queues one at a time, each exactly once", async () => {
    const gpu = new Queue("gpu", { connection: redis, prefix });
    const cpu = new Queue("cpu", { connection: redis, prefix });
    queues.push(gpu, cpu);
    const processed: string[] = [];
    let running = 0;
    let maxRunning = 0;
    consumers = startExclusiveWorkers({
      queueNames: ["gpu", "cpu"],
      connection: redis,
      options: { prefix, concurrency: 1, lockDuration: 5_000 },
      logger: pino({ level: "silent" }),
      recheckMs: 200,
      processor: async (job) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        processed.push(`${job.queueName}:${job.id}`);
        await new Promise((r) => setTimeout(r, 100));
        running--;
        return "done";
      },
    });
    for (let i = 0; i < 4; i++) {
      await cpu.add("j", {}, { jobId: `c${i}` });
      await gpu.add("j", {}, { jobId: `g${i}` });
    }
    await waitFor(
      async () => {
        const [g, c] = await Promise.all([gpu.getCompletedCount(), cpu.getCompletedCount()]);
        return g + c === 8;
      },
      { timeoutMs: 30_000, what: "all jobs to complete" },
    );
    expect(maxRunning).toBe(1);
    expect([...processed].sort()).toEqual([
      "cpu:c0",
      "cpu:c1",
      "cpu:c2",
      "cpu:c3",
      "gpu:g0",
      "gpu:g1",
      "gpu:g2",
      "gpu:g3",
    ]);
    // Hand-backs are not failures: nothing failed, nothing left waiting.
    expect(await gpu.getFailedCount()).toBe(0);
    expect(await cpu.getFailedCount()).toBe(0);
    expect(await cpu.getWaitingCount()).toBe(0);
  });

  it("takes the second queue's jobs while the first is empty", async () => {
    const gpu = new Queue("gpu", { connection: redis, prefix });
    const cpu = new Queue("cpu", { connection: redis, prefix });
    queues.push(gpu, cpu);
    const processed: string[] = [];
    consumers = startExclusiveWorkers({
      queueNames: ["gpu", "cpu"],
      connection: redis,
      options: { prefix, concurrency: 1 },
      logger: pino({ level: "silent" }),
      processor: async (job) => {
        processed.push(job.id!);
      },
    });
    await cpu.add("j", {}, { jobId: "c0" });
    await waitFor(async () => processed.includes("c0"), { timeoutMs: 10_000, what: "c0" });
    await gpu.add("j", {}, { jobId: "g0" });
    await waitFor(async () => processed.includes("g0"), { timeoutMs: 10_000, what: "g0" });
  });
});
