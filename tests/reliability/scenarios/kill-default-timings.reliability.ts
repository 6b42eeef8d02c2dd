import { createRedis, createTrainingProducer } from "@actlab/queue";
import { describe, expect, it } from "vitest";
import {
  insertExperiment,
  killWorkers,
  sgdTraining,
  spawnWorker,
  tinySpec,
  type WorkerProcess,
} from "../../../apps/worker/src/__tests__/helpers.js";
import { createTestDatabase, deletePrefix, TEST_REDIS_URL, testPrefix } from "../../support/index.js";

// Slow (up to a minute): checks the documented promise with the production lock and stall
// settings (env.ts defaults), not the short ones the other tests use.

describe("default stalled-job settings", () => {
  it("restart a SIGKILLed worker's run on another worker within 60 s", async () => {
    const tdb = await createTestDatabase("killdefault");
    const prefix = testPrefix("killdefault");
    const redis = createRedis(TEST_REDIS_URL, { role: "worker" });
    const workers: WorkerProcess[] = [];
    try {
      // ~20 s of training on the native engine, so the run is still in progress when its worker
      // dies (40 epochs of batch 5 finished before the second worker had started).
      const spec = tinySpec({
        dataset: { name: "mnist", samples: 1000, testFraction: 0.2, seed: 1 },
        training: sgdTraining({ epochs: 1000, batchSize: 1, seed: 9 }),
      });
      const { experiment, runs } = await insertExperiment(tdb.db, spec);
      const runId = runs[0]!.id;
      const env = { DATABASE_URL: tdb.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix };
      const first = spawnWorker({ env });
      workers.push(first);
      await first.waitForLog((l) => l.msg === "worker started");
      const producer = createTrainingProducer({ connection: redis, prefix });
      await producer.enqueueRuns([{ id: runId, experimentId: experiment.id, device: "cpu" }]);
      await producer.close();
      await first.waitForLog(
        (l) => l.msg === "epoch stored" && l.runId === runId && (l.epoch as number) >= 2,
      );
      // The survivor is already running when the other dies, as in production.
      const second = spawnWorker({ env });
      workers.push(second);
      await second.waitForLog((l) => l.msg === "worker started");
      first.kill("SIGKILL");
      const killedAt = Date.now();
      await first.exited;
      await second.waitForLog((l) => l.msg === "run started" && l.runId === runId, 70_000);
      const restartMs = Date.now() - killedAt;
      expect(restartMs).toBeLessThan(60_000);
      process.stdout.write(`SIGKILL → resumed on another worker after ${restartMs} ms\n`);
    } finally {
      await killWorkers(workers);
      await deletePrefix(redis, prefix);
      redis.disconnect();
      await tdb.drop();
    }
  });
});
