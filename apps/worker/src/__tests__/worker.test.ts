import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ZExperimentEvent } from "@actlab/contracts";
import { continueExperiment, createDb, type Db } from "@actlab/db";
import {
  createRedis,
  createTrainingProducer,
  publishCancel,
  pubsubChannels,
  TRAINING_QUEUE,
} from "@actlab/queue";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  deletePrefix,
  TEST_PG_SERVER,
  TEST_REDIS_URL,
  type TestDatabase,
  testPrefix,
} from "../../../../tests/support/index.js";
import {
  insertExperiment,
  killWorkers,
  quickRecoveryEnv,
  spawnWorker,
  tinySpec,
  type WorkerProcess,
  waitFor,
} from "./helpers.js";

// Real Postgres, real Redis, real worker processes (from source). Each test: its own database
// and BullMQ prefix. Short lock/stall timings so crashes are detected in seconds.

let redis: Redis;
let tdb: TestDatabase;
let db: Db;
let prefix: string;
let producer: ReturnType<typeof createTrainingProducer>;
const workers: WorkerProcess[] = [];

beforeAll(() => {
  redis = createRedis(TEST_REDIS_URL, { role: "worker" });
});
afterAll(() => {
  redis.disconnect();
});

beforeEach(async () => {
  tdb = await createTestDatabase("worker");
  db = tdb.db;
  prefix = testPrefix("worker");
  producer = createTrainingProducer({ connection: redis, prefix });
});

afterEach(async () => {
  await killWorkers(workers);
  await producer.close();
  await deletePrefix(redis, prefix);
  await tdb.drop();
});

function startWorker(env: Record<string, string> = {}, args: string[] = []): WorkerProcess {
  const w = spawnWorker({
    env: { ...quickRecoveryEnv({ databaseUrl: tdb.url, prefix }), ...env },
    args,
  });
  workers.push(w);
  return w;
}

const ready = (w: WorkerProcess) => w.waitForLog((l) => l.msg === "worker started", 60_000);

async function enqueue(runs: Array<{ id: string; experimentId: string }>) {
  await producer.enqueueRuns(
    runs.map((r) => ({ id: r.id, experimentId: r.experimentId, device: "cpu" as const })),
  );
}

async function waitForRun(runId: string, statuses: string[], timeoutMs = 90_000) {
  return waitFor(
    async () => {
      const run = await db.run.findUniqueOrThrow({ where: { id: runId } });
      return statuses.includes(run.status) ? run : null;
    },
    { timeoutMs, what: `run ${runId} to be ${statuses.join("|")}` },
  );
}

async function epochsOf(runId: string) {
  return db.epochMetric.findMany({ where: { runId }, orderBy: { epoch: "asc" } });
}

async function eventTypes(experimentId: string) {
  const rows = await db.experimentEvent.findMany({ where: { experimentId }, orderBy: { id: "asc" } });
  return rows.map((r) => r.type);
}

const epochLog = (runId: string, epoch: number) => (l: { msg: string; [k: string]: unknown }) =>
  l.msg === "epoch stored" && l.runId === runId && (l.epoch as number) >= epoch;

describe("worker processes", () => {
  it("trains a run end to end: metrics, artifact, events, experiment status", async () => {
    const spec = tinySpec({ variants: [{ activation: "relu" }, { activation: "sigmoid" }] });
    const { experiment, runs } = await insertExperiment(db, spec);
    const w = startWorker({ METRICS_PORT: "0" });
    await ready(w);
    await enqueue(runs);
    for (const run of runs) {
      const done = await waitForRun(run.id, ["succeeded", "failed"]);
      expect(done.status).toBe("succeeded");
      expect(done.attempts).toBe(1);
      expect(done.epochsCompleted).toBe(4);
      expect(done.backend).toBeTruthy();
      expect(done.testAccuracy).toBeGreaterThan(0.1);
      expect(done.seconds).toBeGreaterThan(0);
      const epochs = await epochsOf(run.id);
      expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
      expect(epochs[0]!.gradNorms).toHaveLength(3); // 2 hidden layers + output
      const artifact = await db.modelArtifact.findUniqueOrThrow({ where: { runId: run.id } });
      expect(artifact.sizeBytes).toBeGreaterThan(0);
      // The final state is kept so the run can be continued (POST /v1/experiments/:id/continue).
      expect((await db.checkpoint.findUniqueOrThrow({ where: { runId: run.id } })).epoch).toBe(4);
    }
    const exp = await waitFor(async () => {
      const e = await db.experiment.findUniqueOrThrow({ where: { id: experiment.id } });
      return e.status === "succeeded" ? e : null;
    });
    expect(exp.finishedAt).not.toBeNull();
    const types = await eventTypes(experiment.id);
    expect(types.filter((t) => t === "run.started")).toHaveLength(2);
    expect(types.filter((t) => t === "run.epoch")).toHaveLength(8);
    expect(types.filter((t) => t === "run.finished")).toHaveLength(2);
    expect(types.at(-1)).toBe("experiment.finished");
    expect(types.filter((t) => t === "experiment.finished")).toHaveLength(1);
    // Every stored event matches the wire contract the API's SSE and the dashboard rely on.
    const stored = await db.experimentEvent.findMany({ where: { experimentId: experiment.id } });
    for (const e of stored)
      expect(ZExperimentEvent.safeParse({ type: e.type, data: e.data }).success).toBe(true);
    // Run logs carry the run and experiment ids.
    const started = w.logs.filter((l) => l.msg === "run started");
    expect(started.map((l) => l.runId).sort()).toEqual(runs.map((r) => r.id).sort());
    expect(started.every((l) => l.experimentId === experiment.id)).toBe(true);
    // Prometheus metrics of the process.
    const port = (await w.waitForLog((l) => l.msg === "metrics at /metrics")).port as number;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/^actlab_worker_epochs_total\{[^}]*\} 8$/m);
    expect(text).toMatch(/^actlab_worker_runs_finished_total\{[^}]*outcome="succeeded"[^}]*\} 2$/m);
    expect(text).toMatch(/^actlab_worker_busy\{[^}]*\} 0$/m);
  });

  it("two worker processes train two runs at the same time, one each", async () => {
    // Each run must outlast BullMQ's drain delay (5 s): one addBulk wakes one idle worker, the
    // other finds its job on its next poll — so runs shorter than that could both go to one worker.
    const spec = tinySpec({
      variants: [{ activation: "relu" }, { activation: "elu", alpha: 1 }],
      training: {
        epochs: 60,
        batchSize: 2,
        seed: 8,
        repeats: 1,
        optimizer: { name: "sgd", learningRate: 0.05 },
      },
    });
    const { runs } = await insertExperiment(db, spec);
    const a = startWorker();
    const b = startWorker();
    await Promise.all([ready(a), ready(b)]);
    await enqueue(runs);
    const done = await Promise.all(runs.map((r) => waitForRun(r.id, ["succeeded", "failed"])));
    expect(done.map((r) => r.status)).toEqual(["succeeded", "succeeded"]);
    expect(new Set(done.map((r) => r.workerId)).size).toBe(2);
    const [x, y] = done as [(typeof done)[0], (typeof done)[0]];
    // The training intervals overlap.
    expect(x.startedAt!.getTime()).toBeLessThan(y.finishedAt!.getTime());
    expect(y.startedAt!.getTime()).toBeLessThan(x.finishedAt!.getTime());
  }, 150_000);

  it("trains a long run exactly once with two workers and a 2 s lock", async () => {
    // 100 epochs of 48 batches (~10 s on a quiet machine): far longer than the lock; a blocked
    // event loop would lose it.
    // (2 s rather than 1 s: on 2 busy cores a healthy process's timers can slip by ~0.5 s.)
    const spec = tinySpec({
      training: {
        epochs: 100,
        batchSize: 5,
        seed: 3,
        repeats: 1,
        optimizer: { name: "sgd", learningRate: 0.05 },
      },
    });
    const { experiment, runs } = await insertExperiment(db, spec);
    const env = { WORKER_LOCK_DURATION_MS: "2000", WORKER_STALLED_INTERVAL_MS: "500" };
    const a = startWorker(env);
    const b = startWorker(env);
    await Promise.all([ready(a), ready(b)]);
    await enqueue(runs);
    const t0 = Date.now();
    const run = await waitForRun(runs[0]!.id, ["succeeded", "failed"], 180_000);
    const elapsed = Date.now() - t0;
    expect(run.status).toBe("succeeded");
    expect(elapsed).toBeGreaterThan(5_000); // the run really outlived the 2 s lock several times
    expect(run.attempts).toBe(1);
    expect((await epochsOf(run.id)).map((e) => e.epoch)).toEqual(
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    const types = await eventTypes(experiment.id);
    expect(types.filter((t) => t === "run.started")).toHaveLength(1);
    expect(types.filter((t) => t === "run.epoch")).toHaveLength(100);
    const starts = [...a.logs, ...b.logs].filter((l) => l.msg === "run started");
    expect(starts).toHaveLength(1);
    expect([...a.logs, ...b.logs].filter((l) => /stalled/.test(l.msg))).toEqual([]);
    const job = await producer.queues[TRAINING_QUEUE]!.getJob(run.id);
    expect(job?.attemptsStarted).toBe(1);
  }, 150_000);

  it("resumes a SIGKILLed worker's run elsewhere: epochs once, same result as uninterrupted", async () => {
    const spec = tinySpec({
      training: {
        epochs: 6,
        batchSize: 10,
        seed: 11,
        repeats: 1,
        optimizer: { name: "momentum", learningRate: 0.05 },
      },
    });
    const killed = await insertExperiment(db, spec);
    const reference = await insertExperiment(db, spec);
    const runId = killed.runs[0]!.id;

    const first = startWorker();
    await ready(first);
    await enqueue(killed.runs);
    await first.waitForLog(epochLog(runId, 2));
    first.kill("SIGKILL");
    const killedAt = Date.now();
    await first.exited;
    const atKill = await db.run.findUniqueOrThrow({ where: { id: runId } });
    expect(atKill.status).toBe("running");
    expect(atKill.epochsCompleted).toBeLessThan(6);

    const second = startWorker();
    const resumed = await second.waitForLog((l) => l.msg === "run started" && l.runId === runId, 60_000);
    const resumeMs = Date.now() - killedAt;
    expect(resumeMs).toBeLessThan(60_000);
    expect(resumed.resumedFromEpoch).toBeGreaterThanOrEqual(2);
    process.stdout.write(
      `SIGKILL at epoch ${atKill.epochsCompleted}: resumed from epoch ${resumed.resumedFromEpoch} after ${resumeMs} ms (2 s lock, 1 s stall check)\n`,
    );
    const done = await waitForRun(runId, ["succeeded", "failed"]);
    expect(done.status).toBe("succeeded");
    expect(done.attempts).toBe(2);

    // The same spec and seed, never interrupted, on the same backend.
    await enqueue(reference.runs);
    const ref = await waitForRun(reference.runs[0]!.id, ["succeeded", "failed"]);
    expect(ref.status).toBe("succeeded");
    const epochs = await epochsOf(runId);
    const refEpochs = await epochsOf(ref.id);
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(epochs.map((e) => [e.trainLoss, e.testLoss, e.testAccuracy])).toEqual(
      refEpochs.map((e) => [e.trainLoss, e.testLoss, e.testAccuracy]),
    );
    expect([done.testAccuracy, done.testLoss]).toEqual([ref.testAccuracy, ref.testLoss]);
    process.stdout.write(
      `resumed run: testAccuracy ${done.testAccuracy} testLoss ${done.testLoss}; uninterrupted: ${ref.testAccuracy} ${ref.testLoss}\n`,
    );
    const [artifact, refArtifact] = await Promise.all([
      db.modelArtifact.findUniqueOrThrow({ where: { runId } }),
      db.modelArtifact.findUniqueOrThrow({ where: { runId: ref.id } }),
    ]);
    expect(artifact.sha256).toBe(refArtifact.sha256);
  });

  it("continues a finished run from its final checkpoint: each epoch once, same result as a straight run", async () => {
    const spec = tinySpec({ training: { epochs: 2, seed: 5 } });
    const continued = await insertExperiment(db, spec);
    const reference = await insertExperiment(db, tinySpec({ training: { epochs: 4, seed: 5 } }));
    const runId = continued.runs[0]!.id;
    const w = startWorker();
    await ready(w);
    await enqueue(continued.runs);
    const first = await waitForRun(runId, ["succeeded", "failed"]);
    expect([first.status, first.epochsCompleted]).toEqual(["succeeded", 2]);
    await waitFor(
      async () =>
        (await db.experiment.findUniqueOrThrow({ where: { id: continued.experiment.id } })).status ===
        "succeeded",
    );

    // What POST /v1/experiments/:id/continue does: requeue in Postgres, replace the completed job.
    const outcome = await continueExperiment(db, {
      experimentId: continued.experiment.id,
      tenantId: continued.experiment.tenantId,
      epochs: 4,
      maxActiveRuns: 10,
    });
    expect(outcome.kind).toBe("continued");
    await waitFor(async () => (await producer.queues[TRAINING_QUEUE]!.getJob(runId))?.finishedOn, {
      what: "job completed",
    });
    await producer.removeFinished([runId]);
    await enqueue(continued.runs);
    const resumed = await w.waitForLog(
      (l) => l.msg === "run started" && l.runId === runId && l.resumedFromEpoch === 2,
    );
    expect(resumed.attempt).toBe(2);
    const done = await waitForRun(runId, ["succeeded", "failed"]);
    expect([done.status, done.epochsCompleted, done.epochs]).toEqual(["succeeded", 4, 4]);

    await enqueue(reference.runs);
    const ref = await waitForRun(reference.runs[0]!.id, ["succeeded", "failed"]);
    const epochs = await epochsOf(runId);
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
    expect(epochs.map((e) => [e.trainLoss, e.testAccuracy, e.gradNorms])).toEqual(
      (await epochsOf(ref.id)).map((e) => [e.trainLoss, e.testAccuracy, e.gradNorms]),
    );
    expect([done.testAccuracy, done.testLoss]).toEqual([ref.testAccuracy, ref.testLoss]);
    expect((await db.checkpoint.findUniqueOrThrow({ where: { runId } })).epoch).toBe(4);
    const exp = await db.experiment.findUniqueOrThrow({ where: { id: continued.experiment.id } });
    expect(exp.status).toBe("succeeded");
    expect((exp.spec as { training: { epochs: number } }).training.epochs).toBe(4);
    // Finished twice, announced twice: once per end, each after its own runs.
    expect((await eventTypes(exp.id)).filter((t) => t === "experiment.finished")).toHaveLength(2);
  });

  it("SIGTERM: stops after the current batch, hands the job back, exits; another worker finishes it", async () => {
    const spec = tinySpec({
      training: {
        epochs: 8,
        batchSize: 5,
        seed: 5,
        repeats: 1,
        optimizer: { name: "sgd", learningRate: 0.05 },
      },
    });
    const { experiment, runs } = await insertExperiment(db, spec);
    const runId = runs[0]!.id;
    const first = startWorker({ RECONCILE_INTERVAL_MS: "600000" });
    await ready(first);
    await enqueue(runs);
    await first.waitForLog(epochLog(runId, 2));
    const t0 = Date.now();
    first.kill("SIGTERM");
    const exit = await first.exited;
    const exitMs = Date.now() - t0;
    expect(exitMs).toBeLessThan(10_000);
    process.stdout.write(`SIGTERM: exited with code ${exit.code} after ${exitMs} ms\n`);
    expect(exit.code).toBe(0);
    expect(first.logs.some((l) => l.msg === "run stopped for shutdown" && l.runId === runId)).toBe(true);

    // Back in the queue at once (not waiting for a stall check), the run queued again.
    const job = await producer.queues[TRAINING_QUEUE]!.getJob(runId);
    expect(await job?.getState()).toBe("waiting");
    const handedBack = await db.run.findUniqueOrThrow({ where: { id: runId } });
    expect(handedBack.status).toBe("queued");
    const checkpoint = await db.checkpoint.findUniqueOrThrow({ where: { runId } });
    expect(checkpoint.epoch).toBe(handedBack.epochsCompleted);

    const second = startWorker();
    const resumed = await second.waitForLog((l) => l.msg === "run started" && l.runId === runId);
    expect(resumed.resumedFromEpoch).toBe(handedBack.epochsCompleted);
    const done = await waitForRun(runId, ["succeeded", "failed"]);
    expect(done.status).toBe("succeeded");
    expect(done.attempts).toBe(2);
    expect((await epochsOf(runId)).map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await eventTypes(experiment.id)).filter((t) => t === "run.epoch")).toHaveLength(8);
  });

  it("cancel from the API stops the run within a batch (pub/sub) and marks it canceled", async () => {
    // batch size 1: ~240 batches per epoch, so an epoch takes far longer than one batch.
    const spec = tinySpec({
      training: {
        epochs: 6,
        batchSize: 1,
        seed: 5,
        repeats: 1,
        optimizer: { name: "sgd", learningRate: 0.01 },
      },
    });
    const { experiment, runs } = await insertExperiment(db, spec);
    const runId = runs[0]!.id;
    // Polling off: only the pub/sub signal can stop it this fast.
    const w = startWorker({ CANCEL_POLL_MS: "60000", HEARTBEAT_MS: "60000", RECONCILE_STALE_MS: "600000" });
    await ready(w);
    await enqueue(runs);
    const epoch1 = await w.waitForLog(epochLog(runId, 1));
    // What the API's cancel does for a running run.
    await db.run.update({ where: { id: runId }, data: { cancelRequested: true } });
    const t0 = Date.now();
    await publishCancel(redis, pubsubChannels(prefix), [runId]);
    const stopped = await w.waitForLog((l) => l.msg === "run stopped by cancel" && l.runId === runId, 30_000);
    const latency = Date.now() - t0;
    const run = await waitForRun(runId, ["canceled", "succeeded", "failed"]);
    expect(run.status).toBe("canceled");
    // Stopped in the middle of an epoch, well before it could end…
    expect(stopped.batch as number).toBeLessThan(stopped.batches as number);
    // …within a batch of the signal. The signal's batch is the main thread's view, which trails
    // the training thread by the progress messages still in flight (more of them on busy cores).
    const signal = w.logs.find((l) => l.msg === "stop requested" && l.runId === runId)!;
    expect(signal.source).toBe("pub/sub");
    expect(stopped.epoch).toBe(signal.epoch);
    expect((stopped.batch as number) - (signal.batch as number)).toBeLessThanOrEqual(4);
    process.stdout.write(
      `cancel: signal at epoch ${signal.epoch} batch ${signal.batch}/${signal.batches}, stopped before batch ${(stopped.batch as number) + 1}, ${latency} ms after publish (epoch 1 took ${(epoch1.seconds as number).toFixed(2)} s)\n`,
    );
    expect(latency).toBeLessThan(Math.max(1_000, (epoch1.seconds as number) * 1000));
    expect(run.epochsCompleted).toBe(stopped.epochsCompleted);
    expect((await epochsOf(runId)).length).toBe(run.epochsCompleted);
    const exp = await waitFor(async () => {
      const e = await db.experiment.findUniqueOrThrow({ where: { id: experiment.id } });
      return e.status === "canceled" ? e : null;
    });
    expect(exp.status).toBe("canceled");
    const types = await eventTypes(experiment.id);
    expect(types.filter((t) => t === "run.canceled")).toHaveLength(1);
    expect(types.at(-1)).toBe("experiment.finished");
  });

  it("cancel is also noticed by polling when the pub/sub message is missed", async () => {
    const spec = tinySpec({
      training: {
        epochs: 20, // stops early: the margin is for a slow poll on a loaded machine
        batchSize: 1,
        seed: 5,
        repeats: 1,
        optimizer: { name: "sgd", learningRate: 0.01 },
      },
    });
    const { runs } = await insertExperiment(db, spec);
    const runId = runs[0]!.id;
    const w = startWorker({ CANCEL_POLL_MS: "300" });
    await ready(w);
    await enqueue(runs);
    await w.waitForLog(epochLog(runId, 1));
    await db.run.update({ where: { id: runId }, data: { cancelRequested: true } }); // no publish
    const stopped = await w.waitForLog((l) => l.msg === "run stopped by cancel" && l.runId === runId, 30_000);
    // Stopped before the training ended: the poll lands between batches, and on a busy machine
    // that can be the last batch of an epoch, so the test asks for fewer epochs, not a mid-epoch batch.
    const run = await waitForRun(runId, ["canceled", "succeeded", "failed"]);
    expect(run.status).toBe("canceled");
    expect(stopped.epochsCompleted as number).toBeLessThan(spec.training.epochs);
    expect(run.epochsCompleted).toBeLessThan(spec.training.epochs);
  });

  it("rides out an 8 s Postgres outage mid-run and resumes from the checkpoint", async () => {
    const spec = tinySpec({
      training: {
        epochs: 8,
        batchSize: 5,
        seed: 6,
        repeats: 1,
        optimizer: { name: "sgd", learningRate: 0.05 },
      },
    });
    const { runs } = await insertExperiment(db, spec);
    const runId = runs[0]!.id;
    const w = startWorker();
    await ready(w);
    await enqueue(runs);
    await w.waitForLog(epochLog(runId, 2));
    const name = new URL(tdb.url).pathname.slice(1);
    const admin = createDb({ url: `${TEST_PG_SERVER}/postgres`, poolSize: 1 });
    try {
      await admin.$executeRawUnsafe(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
      await admin.$executeRawUnsafe(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`,
      );
      await new Promise((r) => setTimeout(r, 8_000));
    } finally {
      await admin.$executeRawUnsafe(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
      await admin.$disconnect();
    }
    const done = await waitFor(
      async () => {
        const run = await db.run.findUnique({ where: { id: runId } }).catch(() => null);
        return run && ["succeeded", "failed"].includes(run.status) ? run : null;
      },
      { timeoutMs: 90_000, what: "the run to finish" },
    );
    expect(done.status).toBe("succeeded");
    expect((await epochsOf(runId)).map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(w.child.exitCode).toBeNull(); // the worker survived the outage
    // The outage was noticed, and never taken for a permanent failure.
    expect(w.logs.some((l) => l.level >= 40 && l.runId === runId)).toBe(true);
    expect(w.logs.filter((l) => l.msg === "run failed")).toEqual([]);
  });

  it("fails a run with a missing dataset at once, without retries, with an actionable message", async () => {
    const spec = tinySpec({ dataset: { name: "mnist-full", samples: 300, testFraction: 0.2, seed: 1 } });
    const { experiment, runs } = await insertExperiment(db, spec);
    const empty = mkdtempSync(join(tmpdir(), "actlab-nodata-"));
    const w = startWorker({ DATA_DIR: empty });
    await ready(w);
    await enqueue(runs);
    const run = await waitForRun(runs[0]!.id, ["failed", "succeeded"], 30_000);
    expect(run.status).toBe("failed");
    expect(run.attempts).toBe(1);
    expect(run.error).toMatch(/mnist-full/);
    const job = await producer.queues[TRAINING_QUEUE]!.getJob(run.id);
    await waitFor(async () => (await job!.getState()) === "failed", { what: "job failed" });
    const failed = await producer.queues[TRAINING_QUEUE]!.getJob(run.id);
    expect(failed?.attemptsMade).toBe(1);
    const types = await eventTypes(experiment.id);
    expect(types).toContain("run.failed");
    expect((await db.experiment.findUniqueOrThrow({ where: { id: experiment.id } })).status).toBe("failed");
  });

  it("fails a run whose stored spec is invalid, and a job with an invalid payload, without retries", async () => {
    const { experiment, runs } = await insertExperiment(db, tinySpec());
    // A spec no current version of the service would accept (e.g. written by an older API).
    await db.experiment.update({
      where: { id: experiment.id },
      data: { spec: { ...tinySpec(), model: { hiddenLayers: 0, units: 16 } } as object },
    });
    const w = startWorker();
    await ready(w);
    await enqueue(runs);
    const bogus = await producer.queues[TRAINING_QUEUE]!.add(
      "train-run",
      { runId: "not-a-uuid" },
      { attempts: 5 },
    );
    const run = await waitForRun(runs[0]!.id, ["failed", "succeeded"], 30_000);
    expect(run.status).toBe("failed");
    expect(run.attempts).toBe(0); // never started training
    expect(run.error).toMatch(
      /stored experiment spec is invalid \(model\.hiddenLayers: .*\); submit the experiment again/,
    );
    for (const id of [run.id, bogus.id!]) {
      const job = await waitFor(
        async () => {
          const j = await producer.queues[TRAINING_QUEUE]!.getJob(id);
          return (await j?.getState()) === "failed" ? j : null;
        },
        { what: `job ${id} to fail` },
      );
      expect(job.attemptsMade).toBe(1);
    }
    expect((await db.experiment.findUniqueOrThrow({ where: { id: experiment.id } })).status).toBe("failed");
  });

  it("reconciler: enqueues a queued run with no job and requeues an abandoned running one", async () => {
    const spec = tinySpec({
      training: {
        epochs: 3,
        batchSize: 20,
        seed: 2,
        repeats: 3,
        optimizer: { name: "sgd", learningRate: 0.1 },
      },
    });
    const { experiment, runs } = await insertExperiment(db, spec);
    const [lostJob, abandoned, canceled] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0]];
    // Canceled by the API while waiting for a retry (the API removed its job): nobody holds it.
    await db.$executeRaw`UPDATE runs SET status = 'running', attempts = 1, "cancelRequested" = true
      WHERE id = ${canceled.id}::uuid`;
    // A worker vanished while Redis lost its job: running, attempted once, not touched for a while.
    await db.$executeRaw`UPDATE runs SET status = 'running', attempts = 1, "workerId" = 'ghost',
      "updatedAt" = now() - interval '1 hour' WHERE id = ${abandoned.id}::uuid`;
    const w = startWorker({ RECONCILE_GRACE_MS: "0", RECONCILE_STALE_MS: "3000" });
    await ready(w);
    // Nothing enqueued by the test: only the reconciler can start these.
    const a = await waitForRun(lostJob.id, ["succeeded", "failed"]);
    const b = await waitForRun(abandoned.id, ["succeeded", "failed"]);
    expect([a.status, b.status]).toEqual(["succeeded", "succeeded"]);
    expect((await waitForRun(canceled.id, ["canceled", "succeeded", "failed"])).status).toBe("canceled");
    expect(b.attempts).toBe(2);
    expect(w.logs.some((l) => /queued run had no job/.test(l.msg) && l.runId === lostJob.id)).toBe(true);
    expect(w.logs.some((l) => /running run had no live job/.test(l.msg) && l.runId === abandoned.id)).toBe(
      true,
    );
    await waitFor(async () => {
      const e = await db.experiment.findUniqueOrThrow({ where: { id: experiment.id } });
      return e.status === "partial"; // two succeeded, one canceled
    });
  });

  it("--device gpu refuses to start with a clear message when @tensorflow/tfjs-node-gpu is missing", async () => {
    const w = startWorker({}, ["--device", "gpu"]);
    const exit = await w.exited;
    expect(exit.code).toBe(78);
    expect(w.stderr.join("\n")).toMatch(/refusing to start: GPU training needs @tensorflow\/tfjs-node-gpu/);
    expect(w.logs.some((l) => l.msg === "worker started")).toBe(false);
  });
});
