import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deletePrefix, TEST_REDIS_URL, testPrefix } from "../../../tests/support/index.js";
import { createRedis } from "./connection.js";
import { TRAINING_GPU_QUEUE, TRAINING_QUEUE } from "./names.js";
import { createTrainingProducer } from "./producer.js";

const prefix = testPrefix("producer");
const redis = createRedis(TEST_REDIS_URL, { role: "worker" });
const producer = createTrainingProducer({ connection: redis, prefix });

beforeAll(async () => {
  await redis.ping();
});
afterAll(async () => {
  await producer.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe("training producer", () => {
  it("adds one job per run with the run id as job id, routed by device", async () => {
    const experimentId = randomUUID();
    const runs = [
      { id: randomUUID(), experimentId, device: "cpu" as const },
      { id: randomUUID(), experimentId, device: "any" as const },
      { id: randomUUID(), experimentId, device: "gpu" as const },
    ];
    await producer.enqueueRuns(runs);
    await producer.enqueueRuns(runs); // a retry must not duplicate anything

    const cpu = await producer.queues[TRAINING_QUEUE]!.getJobs(["waiting"]);
    const gpu = await producer.queues[TRAINING_GPU_QUEUE]!.getJobs(["waiting"]);
    expect(cpu.map((j) => j.id).sort()).toEqual([runs[0]!.id, runs[1]!.id].sort());
    expect(gpu.map((j) => j.id)).toEqual([runs[2]!.id]);
    expect(gpu[0]!.data).toEqual({ runId: runs[2]!.id, experimentId });
  });

  it("removes waiting jobs and reports which", async () => {
    const experimentId = randomUUID();
    const runs = [randomUUID(), randomUUID()].map((id) => ({ id, experimentId, device: "cpu" as const }));
    await producer.enqueueRuns(runs);
    const removed = await producer.removeWaiting([runs[0]!.id, randomUUID()]);
    expect(removed).toEqual([runs[0]!.id]);
    expect(await producer.queues[TRAINING_QUEUE]!.getJob(runs[0]!.id)).toBeUndefined();
    expect(await producer.queues[TRAINING_QUEUE]!.getJob(runs[1]!.id)).toBeDefined();
  });
});
