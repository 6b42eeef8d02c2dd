import type { Db } from "@actlab/db";
import { createRedis, createTrainingProducer } from "@actlab/queue";
import { afterAll, describe, expect, it } from "vitest";
import {
  insertExperiment,
  killWorkers,
  quickRecoveryEnv,
  sgdTraining,
  spawnWorker,
  tinySpec,
  type WorkerProcess,
  waitFor,
} from "../../../apps/worker/src/__tests__/helpers.js";
import { createTestDatabase, deletePrefix, TEST_REDIS_URL, testPrefix } from "../../support/index.js";
import { startRedis, stopRedis } from "../support/services.js";

const EPOCHS = 100;

// Restarts the machine's Redis (without persistence, so every queued job is lost) while an
// experiment trains, so it runs in `npm run test:reliability` (one file at a time), not in `npm test`.

async function restartRedis(): Promise<void> {
  await stopRedis();
  await startRedis();
}

const workers: WorkerProcess[] = [];

afterAll(async () => {
  // Whatever happened, leave the machine's Redis running.
  await startRedis();
  await killWorkers(workers);
});

describe("the machine's Redis (serialized: these tests change or restart it)", () => {
  it("a restart in the middle of an experiment: still completes every run, each epoch stored once", async () => {
    const tdb = await createTestDatabase("redisrestart");
    const db: Db = tdb.db;
    const prefix = testPrefix("redisrestart");
    try {
      const spec = tinySpec({
        variants: [{ activation: "relu" }, { activation: "tanh" }],
        // ~1 s a run on the native engine: long enough that two runs still wait in Redis while
        // the first two train (6 epochs of batch 5 finished every run before the check).
        training: sgdTraining({ epochs: EPOCHS, batchSize: 1, seed: 4, repeats: 2 }),
      });
      const { experiment, runs } = await insertExperiment(db, spec);
      const env = { ...quickRecoveryEnv({ databaseUrl: tdb.url, prefix }), RECONCILE_GRACE_MS: "2000" };
      for (let i = 0; i < 2; i++) workers.push(spawnWorker({ env }));
      await Promise.all(workers.map((w) => w.waitForLog((l) => l.msg === "worker started")));

      const redis = createRedis(TEST_REDIS_URL, { role: "producer" });
      const producer = createTrainingProducer({ connection: redis, prefix });
      await producer.enqueueRuns(
        runs.map((r) => ({ id: r.id, experimentId: experiment.id, device: "cpu" as const })),
      );
      await producer.close();
      redis.disconnect();

      // Some runs training, the others still waiting in Redis.
      await waitFor(async () => (await db.epochMetric.count()) >= 2, { what: "training to be under way" });
      const before = await db.run.groupBy({ by: ["status"], _count: true });
      expect(before.some((g) => g.status === "queued")).toBe(true);
      await restartRedis();

      const done = await waitFor(
        async () => {
          const e = await db.experiment.findUniqueOrThrow({ where: { id: experiment.id } });
          return ["succeeded", "failed", "partial", "canceled"].includes(e.status) ? e : null;
        },
        { timeoutMs: 180_000, what: "the experiment to finish" },
      );
      expect(done.status).toBe("succeeded");
      for (const r of runs) {
        const metrics = await db.epochMetric.findMany({ where: { runId: r.id }, orderBy: { epoch: "asc" } });
        expect(metrics.map((m) => m.epoch)).toEqual(Array.from({ length: EPOCHS }, (_, k) => k + 1));
      }
      const logs = workers.flatMap((w) => w.logs);
      expect(logs.some((l) => /queued run had no job; enqueued/.test(l.msg))).toBe(true);
      const cleanup = createRedis(TEST_REDIS_URL, { role: "worker" });
      await deletePrefix(cleanup, prefix);
      cleanup.disconnect();
    } finally {
      await startRedis();
      await killWorkers(workers);
      await tdb.drop();
    }
  });

  it("a worker warns at start when Redis' maxmemory-policy is not noeviction", async () => {
    const admin = createRedis(TEST_REDIS_URL, { role: "worker" });
    const tdb = await createTestDatabase("eviction");
    const [, before] = (await admin.config("GET", "maxmemory-policy")) as [string, string];
    try {
      await admin.config("SET", "maxmemory-policy", "allkeys-lru");
      const w = spawnWorker({
        env: { DATABASE_URL: tdb.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: testPrefix("eviction") },
      });
      workers.push(w);
      const warning = await w.waitForLog((l) => /maxmemory-policy is allkeys-lru/.test(l.msg));
      expect(warning.level).toBe(40);
      await w.waitForLog((l) => l.msg === "worker started"); // a warning, not a refusal
    } finally {
      await admin.config("SET", "maxmemory-policy", before);
      admin.disconnect();
      await killWorkers(workers);
      await tdb.drop();
    }
  });
});
