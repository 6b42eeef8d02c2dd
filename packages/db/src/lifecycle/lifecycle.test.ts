import { LIMITS, type TEpochMetrics, ZExperimentSpec } from "@actlab/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../../tests/support/index.js";
import { insertExperiment, planExperiment } from "./create.js";
import { eventsSince, recordEvent } from "./events.js";
import { refreshExperimentStatus } from "./experiment-status.js";
import {
  failRun,
  handBackRun,
  pollRun,
  RunNotHeldError,
  startRun,
  storeCheckpoint,
  storeEpoch,
  succeedRun,
} from "./runs.js";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase("lifecycle");
});
afterAll(async () => {
  await t.drop();
});

/** An experiment of `n` runs (one variant each), inserted as the API inserts one. */
async function experimentWithRuns(n: number) {
  const tenant = await t.db.tenant.create({ data: { name: `tenant-${Math.random()}` } });
  const spec = ZExperimentSpec.parse({
    variants: Array.from({ length: n }, () => ({ activation: "relu" })),
    training: { repeats: 1, epochs: 3 },
  });
  const plan = planExperiment({ tenantId: tenant.id, spec });
  expect(await insertExperiment(t.db, plan, { maxActiveRuns: LIMITS.maxActiveRunsPerTenant })).toEqual({
    kind: "inserted",
  });
  return t.db.experiment.findUniqueOrThrow({ where: { id: plan.id }, include: { runs: true } });
}

const metrics = (epoch: number): TEpochMetrics => ({
  epoch,
  trainLoss: 1 / epoch,
  trainAccuracy: 0.5,
  testLoss: 1 / epoch,
  testAccuracy: 0.5,
  gradNorms: [0.1, 0.2],
  deadFraction: [0],
  saturatedFraction: [0],
  preluAlphaMean: null,
  seconds: 0.1,
});
const checkpoint = (epoch: number) => ({ epoch, weights: new Uint8Array([epoch, 2, 3]), state: { epoch } });

describe("creation", () => {
  it("stores a queued experiment with its runCount and one queued run per variant × repeat", async () => {
    const exp = await experimentWithRuns(3);
    expect(exp).toMatchObject({ status: "queued", runCount: 3 });
    expect(exp.runs.map((r) => [r.status, r.variantIndex, r.attempts])).toEqual([
      ["queued", 0, 0],
      ["queued", 1, 0],
      ["queued", 2, 0],
    ]);
  });
});

describe("start", () => {
  it("records the checkpoint epoch each attempt resumes from (0 from scratch)", async () => {
    const exp = await experimentWithRuns(1);
    const runId = exp.runs[0]!.id;
    expect(exp.runs[0]!.resumedFromEpoch).toBeNull();
    expect((await startRun(t.db, { runId, workerId: "w1", backend: "cpu" }))?.resumedFromEpoch).toBe(0);
    await storeEpoch(t.db, { runId, attempt: 1, metrics: metrics(1), checkpoint: null });
    await storeEpoch(t.db, { runId, attempt: 1, metrics: metrics(2), checkpoint: checkpoint(2) });
    // w1 died after epoch 2's checkpoint; w2 resumes from it.
    const second = await startRun(t.db, { runId, workerId: "w2", backend: "cpu" });
    expect(second).toMatchObject({ attempts: 2, resumedFromEpoch: 2 });
  });

  it("an attempt resumed from an earlier checkpoint trains stored epochs again without setting the count back", async () => {
    const exp = await experimentWithRuns(1);
    const runId = exp.runs[0]!.id;
    await startRun(t.db, { runId, workerId: "w1", backend: "cpu" });
    await storeEpoch(t.db, { runId, attempt: 1, metrics: metrics(1), checkpoint: checkpoint(1) });
    for (const e of [2, 3])
      await storeEpoch(t.db, { runId, attempt: 1, metrics: metrics(e), checkpoint: null });
    // w1 died after epoch 3, its checkpoint at 1: w2 trains epoch 2 again.
    expect(await startRun(t.db, { runId, workerId: "w2", backend: "cpu" })).toMatchObject({
      resumedFromEpoch: 1,
    });
    await storeEpoch(t.db, { runId, attempt: 2, metrics: metrics(2), checkpoint: null });
    const run = await t.db.run.findUniqueOrThrow({ where: { id: runId } });
    expect(run.epochsCompleted).toBe(3);
    expect(await t.db.epochMetric.count({ where: { runId } })).toBe(3);
  });
});

describe("fencing by attempt", () => {
  it("refuses every write of an attempt once another worker has taken the run over", async () => {
    const exp = await experimentWithRuns(1);
    const runId = exp.runs[0]!.id;
    const first = await startRun(t.db, { runId, workerId: "w1", backend: "cpu" });
    expect(first?.attempts).toBe(1);
    await storeEpoch(t.db, { runId, attempt: 1, metrics: metrics(1), checkpoint: checkpoint(1) });

    // w1 lost its lock (a partition); w2 takes the run over: attempt 2.
    const second = await startRun(t.db, { runId, workerId: "w2", backend: "cpu" });
    expect(second?.attempts).toBe(2);

    const stale = { runId, attempt: 1 };
    await expect(
      storeEpoch(t.db, { ...stale, metrics: metrics(2), checkpoint: checkpoint(2) }),
    ).rejects.toThrow(RunNotHeldError);
    await expect(storeCheckpoint(t.db, { ...stale, checkpoint: checkpoint(2) })).rejects.toThrow(
      RunNotHeldError,
    );
    const artifact = { topology: {}, weightSpecs: [], weights: new Uint8Array([1]), sha256: "x" };
    await expect(succeedRun(t.db, { ...stale, artifact, testAccuracy: 1, testLoss: 0 })).rejects.toThrow(
      RunNotHeldError,
    );
    expect(await failRun(t.db, { ...stale, error: "stale worker's error" })).toBe(false);
    expect(await handBackRun(t.db, stale)).toBe(false);
    expect((await pollRun(t.db, { ...stale, touch: true })).held).toBe(false);

    // Nothing of the stale attempt landed: one epoch, its checkpoint, the run running as attempt 2.
    expect(await t.db.epochMetric.count({ where: { runId } })).toBe(1);
    expect((await t.db.checkpoint.findUniqueOrThrow({ where: { runId } })).epoch).toBe(1);
    expect(await t.db.run.findUniqueOrThrow({ where: { id: runId } })).toMatchObject({
      status: "running",
      attempts: 2,
      workerId: "w2",
      error: null,
    });

    // The current attempt writes as usual; an epoch without a checkpoint keeps the last one.
    expect((await pollRun(t.db, { runId, attempt: 2, touch: true })).held).toBe(true);
    await storeEpoch(t.db, { runId, attempt: 2, metrics: metrics(2), checkpoint: null });
    expect((await t.db.checkpoint.findUniqueOrThrow({ where: { runId } })).epoch).toBe(1);
    await storeCheckpoint(t.db, { runId, attempt: 2, checkpoint: checkpoint(2) });
    expect((await t.db.checkpoint.findUniqueOrThrow({ where: { runId } })).epoch).toBe(2);
    const { seconds } = await succeedRun(t.db, { runId, attempt: 2, artifact, testAccuracy: 1, testLoss: 0 });
    expect(seconds).toBeCloseTo(0.2);
    expect((await t.db.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe("succeeded");
    // A succeeded run keeps its final checkpoint: continueExperiment resumes from it.
    expect((await t.db.checkpoint.findUniqueOrThrow({ where: { runId } })).epoch).toBe(2);
    // A finished run is never started again.
    expect(await startRun(t.db, { runId, workerId: "w3", backend: "cpu" })).toBeNull();
  });

  it("hands a run back to the queue only from the attempt that holds it", async () => {
    const exp = await experimentWithRuns(1);
    const runId = exp.runs[0]!.id;
    await startRun(t.db, { runId, workerId: "w1", backend: "cpu" });
    expect(await handBackRun(t.db, { runId, attempt: 1 })).toBe(true);
    expect(await t.db.run.findUniqueOrThrow({ where: { id: runId } })).toMatchObject({
      status: "queued",
      workerId: null,
      attempts: 1,
    });
  });
});

describe("refreshExperimentStatus", () => {
  it("follows the runs and announces the end exactly once under concurrency", async () => {
    const exp = await experimentWithRuns(8);
    await t.db.run.updateMany({ where: { experimentId: exp.id }, data: { status: "running" } });
    expect((await refreshExperimentStatus(t.db, exp.id))?.status).toBe("running");
    const started = await t.db.experiment.findUniqueOrThrow({ where: { id: exp.id } });
    expect(started.startedAt).toBeInstanceOf(Date);

    // Eight workers finish their runs at the same moment; exactly one sees the experiment end.
    const results = await Promise.all(
      exp.runs.map(async (run, i) => {
        await t.db.run.update({ where: { id: run.id }, data: { status: i === 0 ? "failed" : "succeeded" } });
        return refreshExperimentStatus(t.db, exp.id);
      }),
    );
    expect(results.filter((r) => r?.finishedNow).length).toBe(1);
    const done = await t.db.experiment.findUniqueOrThrow({ where: { id: exp.id } });
    expect(done.status).toBe("partial");
    expect(done.finishedAt).toBeInstanceOf(Date);
  });

  it("returns null for an unknown experiment", async () => {
    expect(await refreshExperimentStatus(t.db, "00000000-0000-0000-0000-000000000000")).toBeNull();
  });
});

describe("events", () => {
  it("replay after an id, oldest first, ids increasing", async () => {
    const exp = await experimentWithRuns(1);
    const runId = exp.runs[0]!.id;
    const a = await recordEvent(t.db, exp.id, {
      type: "run.canceled",
      data: { experimentId: exp.id, runId },
    });
    const b = await recordEvent(t.db, exp.id, {
      type: "experiment.finished",
      data: { experimentId: exp.id, status: "canceled" },
    });
    expect(BigInt(b.id)).toBeGreaterThan(BigInt(a.id));
    expect((await eventsSince(t.db, exp.id, null)).map((e) => e.id)).toEqual([a.id, b.id]);
    expect(await eventsSince(t.db, exp.id, a.id)).toEqual([b]);
  });
});
