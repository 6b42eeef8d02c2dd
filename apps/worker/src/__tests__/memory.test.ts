import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { TEpochMetrics } from "@actlab/contracts";
import { createRedis, createTrainingProducer } from "@actlab/queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  deletePrefix,
  TEST_REDIS_URL,
  type TestDatabase,
  testPrefix,
} from "../../../../tests/support/index.js";
import { storeEpoch } from "../runs/run-store.js";
import { insertExperiment, spawnWorker, tinySpec, waitFor } from "./helpers.js";

// The worker's main thread stores one row of metrics per epoch. With Prisma 7's query-plan cache
// a query whose shape changes with its values compiles and keeps a new plan every time: in the
// 1,000-experiment load run that grew each worker's heap after GC from 28 to 48 MB (the cache's
// 1,000 plans) and its RSS by ~150 MB. Here: 1,200 epochs with different metrics each, and the
// heap after a full GC must not grow with them.

// A full GC on demand, without starting vitest with --expose-gc.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase("memory");
});
afterAll(async () => {
  await tdb.drop();
});

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe("worker memory", () => {
  it("storing many epochs with different metrics does not grow the heap", async () => {
    // Two runs of 600 epochs (the spec's limit is 1,000): 1,200 stored epochs.
    const EPOCHS = 600;
    const WARM_UP = 200;
    const spec = tinySpec({
      training: {
        epochs: EPOCHS,
        batchSize: 20,
        seed: 7,
        repeats: 2,
        optimizer: { name: "sgd", learningRate: 0.1 },
      },
    });
    const { runs } = await insertExperiment(tdb.db, spec);
    const workerId = "memory-test";
    await tdb.db.run.updateMany({ data: { status: "running", workerId, attempts: 1 } });

    // Values like a real run's: every epoch's lists hold different numbers.
    const metrics = (epoch: number): TEpochMetrics => ({
      epoch,
      trainLoss: 1 / epoch,
      trainAccuracy: 0.5,
      testLoss: 1.5 / epoch,
      testAccuracy: 0.4,
      gradNorms: [Math.random(), Math.random(), Math.random()],
      deadFraction: [epoch / EPOCHS, 0.25],
      saturatedFraction: [0, Math.random()],
      preluAlphaMean: epoch % 2 ? [Math.random(), 0.25] : null,
      seconds: 0.01,
    });
    const store = (runId: string, epoch: number) =>
      storeEpoch(tdb.db, {
        runId,
        attempt: 1,
        metrics: metrics(epoch),
        checkpoint: { epoch, weights: new Uint8Array(64), state: { iterations: epoch } },
      });

    const [first, second] = runs.map((r) => r.id) as [string, string];
    for (let epoch = 1; epoch <= WARM_UP; epoch++) await store(first, epoch);
    const before = heapAfterGc();
    for (let epoch = WARM_UP + 1; epoch <= EPOCHS; epoch++) await store(first, epoch);
    for (let epoch = 1; epoch <= EPOCHS; epoch++) await store(second, epoch);
    const after = heapAfterGc();

    expect(await tdb.db.epochMetric.count()).toBe(2 * EPOCHS);
    const last = await tdb.db.epochMetric.findUniqueOrThrow({
      where: { runId_epoch: { runId: second, epoch: EPOCHS } },
    });
    expect(last.deadFraction).toEqual([1, 0.25]);
    expect(last.gradNorms).toHaveLength(3);
    // With a plan per epoch these 1,000 epochs added 13.4 MB (the cache's limit is 1,000 plans,
    // 200 were made during warm-up); with the plan shared, 0.8 MB.
    const grownMb = (after - before) / 2 ** 20;
    expect(
      grownMb,
      `heap after GC ${(before / 2 ** 20).toFixed(1)} → ${(after / 2 ** 20).toFixed(1)} MB`,
    ).toBeLessThan(4);
  }, 120_000);

  it("a worker replaces its training thread after N runs (wasm), with the same results", async () => {
    // TensorFlow.js layers keep every layer name they made in a module-level map (~1.3 KB per
    // tiny run): the thread's heap after GC went 21 → 25 MB over 3,000 runs of the load scenario.
    // A new thread starts with an empty map; the runs' results must not notice.
    const prefix = testPrefix("memory");
    const redis = createRedis(TEST_REDIS_URL, { role: "worker" });
    const producer = createTrainingProducer({ connection: redis, prefix });
    const w = spawnWorker({
      env: {
        DATABASE_URL: tdb.url,
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: prefix,
        ACTLAB_BACKEND: "wasm",
        TRAINER_REPLACE_AFTER_RUNS: "2",
      },
    });
    try {
      await w.waitForLog((l) => l.msg === "worker started", 60_000);
      // Five experiments with the same spec: the same run seed, so the same result each time.
      const spec = tinySpec({
        training: {
          epochs: 2,
          batchSize: 20,
          seed: 7,
          repeats: 1,
          optimizer: { name: "sgd", learningRate: 0.1 },
        },
      });
      const runs: Array<{ id: string; experimentId: string }> = [];
      for (let i = 0; i < 5; i++) runs.push(...(await insertExperiment(tdb.db, spec)).runs);
      await producer.enqueueRuns(
        runs.map((r) => ({ id: r.id, experimentId: r.experimentId, device: "cpu" as const })),
      );
      const done = await waitFor(
        async () => {
          const rows = await tdb.db.run.findMany({ where: { id: { in: runs.map((r) => r.id) } } });
          return rows.every((r) => r.status === "succeeded" || r.status === "failed") ? rows : null;
        },
        { timeoutMs: 90_000, what: "five runs to finish" },
      );
      expect(done.map((r) => r.status)).toEqual(Array(5).fill("succeeded"));
      expect(new Set(done.map((r) => r.testLoss)).size).toBe(1);
      // After runs 2 and 4 (run 5 trains in the third thread), and no crash.
      expect(w.logs.filter((l) => l.msg === "training thread replaced").map((l) => l.runs)).toEqual([2, 2]);
      expect(w.logs.filter((l) => l.level >= 50)).toEqual([]);
    } finally {
      w.kill("SIGKILL");
      await w.exited;
      await producer.close();
      await deletePrefix(redis, prefix);
      redis.disconnect();
    }
  }, 120_000);
});
