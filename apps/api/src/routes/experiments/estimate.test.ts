import { applyCell, epochWork, ZEstimate, ZExperiment, ZExperimentSpec } from "@actlab/contracts";
import { refreshExperimentStatus, startRun, storeEpoch, succeedRun } from "@actlab/db";
import { createRedis, TRAINING_QUEUE } from "@actlab/queue";
import { Worker } from "bullmq";
import { describe, expect, it } from "vitest";
import { plainEpoch, TEST_REDIS_URL } from "../../../../../tests/support/index.js";
import { bearer, SMALL_SPEC, testApiForFile } from "../../__tests__/helpers.js";

const t = testApiForFile("estimate");

const estimate = (payload: unknown, key = t.keyA) =>
  t.app.inject({
    method: "POST",
    url: "/v1/experiments/estimate",
    headers: bearer(key),
    payload: payload as object,
  });

/**
 * Moves a run through the lifecycle as a worker on `backend` would: `epochs` epochs stored
 * `seconds` apart (their createdAt set so), with a pause of `pauseAfter2` seconds after epoch 2.
 */
async function trainRun(
  runId: string,
  {
    backend,
    epochs,
    seconds,
    pauseAfter2 = 0,
  }: { backend: string; epochs: number; seconds: number; pauseAfter2?: number },
) {
  const db = t.database.db;
  const { attempts: attempt } = (await startRun(db, { runId, workerId: "test", backend }))!;
  for (let e = 1; e <= epochs; e++) {
    await storeEpoch(db, {
      runId,
      attempt,
      metrics: plainEpoch(e, { seconds }),
      checkpoint: { epoch: e, weights: new Uint8Array([e]), state: {} },
    });
    const at = Date.UTC(2026, 0, 1) + 1000 * (e * seconds + (e > 2 ? pauseAfter2 : 0));
    await db.epochMetric.update({
      where: { runId_epoch: { runId, epoch: e } },
      data: { createdAt: new Date(at) },
    });
  }
  await succeedRun(db, {
    runId,
    attempt,
    artifact: { topology: {}, weightSpecs: [], weights: new Uint8Array([1]), sha256: "x" },
    testAccuracy: 0.9,
    testLoss: 0.1,
  });
}

describe("POST /v1/experiments/estimate", () => {
  it("says there is no measurement yet before any run finished, storing nothing", async () => {
    const res = await estimate({ ...SMALL_SPEC, name: "first ever" });
    expect(res.statusCode, res.body).toBe(200);
    expect(ZEstimate.parse(res.json())).toEqual({
      runs: 4,
      epochs: 2,
      workers: 0,
      backend: null,
      measuredRuns: 0,
      secondsPerEpoch: null,
      seconds: null,
      note: "no measurement yet: no run has finished on this queue's workers",
    });
    expect(await t.database.db.experiment.count()).toBe(0);
  });

  it("answers a bad body as a create would (400 naming the field), a preset with overrides as its spec", async () => {
    const tooLong = await estimate({ ...SMALL_SPEC, training: { ...SMALL_SPEC.training, epochs: 5_000 } });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(tooLong.json().errors.map((e: { path: string }) => e.path)).toEqual(["training.epochs"]);
    const tooMany = await estimate({ ...SMALL_SPEC, dataset: { samples: 20_000 } });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().errors[0].path).toBe("dataset.samples");
    expect((await estimate({ preset: "nope" })).statusCode).toBe(400);
    const preset = ZEstimate.parse(
      (await estimate({ preset: "chapter8-keras", training: { epochs: 10, repeats: 1 } })).json(),
    );
    expect(preset).toMatchObject({ runs: 7, epochs: 10 });
    const unauthenticated = await t.app.inject({
      method: "POST",
      url: "/v1/experiments/estimate",
      payload: {},
    });
    expect(unauthenticated.statusCode).toBe(401);
    expect(await t.database.db.experiment.count()).toBe(0);
  });

  it("scales the latest backend's measured pace to the spec and spreads its runs over the connected workers", async () => {
    // Measured: two runs on "native" whose epochs were stored 0.5 s apart (one paused for an hour
    // between two epochs: the median interval ignores that) and, earlier, one on "wasm" at 9 s
    // (the workers have since moved to native, the latest backend: wasm is left out).
    const measured = ZExperiment.parse(
      (
        await t.app.inject({
          method: "POST",
          url: "/v1/experiments",
          headers: bearer(t.keyA),
          payload: {
            ...SMALL_SPEC,
            name: "measured",
            variants: [{ activation: "relu" }],
            training: { ...SMALL_SPEC.training, epochs: 4 },
          },
        })
      ).json(),
    );
    const wasm = ZExperiment.parse(
      (
        await t.app.inject({
          method: "POST",
          url: "/v1/experiments",
          headers: bearer(t.keyB), // another tenant's runs count: only their pace is used
          payload: {
            ...SMALL_SPEC,
            name: "old wasm",
            variants: [{ activation: "relu" }],
            training: { repeats: 1 },
          },
        })
      ).json(),
    );
    await trainRun(wasm.runs[0]!.id, { backend: "wasm", epochs: 2, seconds: 9 });
    await trainRun(measured.runs[0]!.id, { backend: "native", epochs: 4, seconds: 0.5 });
    await trainRun(measured.runs[1]!.id, { backend: "native", epochs: 4, seconds: 0.5, pauseAfter2: 3600 });
    await refreshExperimentStatus(t.database.db, measured.id);
    const rate =
      0.5 / epochWork(ZExperimentSpec.parse({ ...SMALL_SPEC, variants: [{ activation: "relu" }] }));

    // Two workers on the CPU queue (as BullMQ lists them), none on the GPU queue.
    const connection = createRedis(TEST_REDIS_URL, { role: "worker" });
    const workers = [1, 2].map(
      () => new Worker(TRAINING_QUEUE, async () => {}, { connection, prefix: t.prefix, autorun: false }),
    );
    try {
      await Promise.all(workers.map((w) => w.waitUntilReady()));
      const spec = {
        ...SMALL_SPEC,
        name: "bigger",
        model: { hiddenLayers: 3, units: 20 },
        training: { epochs: 4, repeats: 3 },
      };
      const res = await estimate(spec);
      expect(res.statusCode, res.body).toBe(200);
      const e = ZEstimate.parse(res.json());
      const perEpoch = epochWork(applyCell(ZExperimentSpec.parse(spec), {})) * rate;
      expect(e).toMatchObject({ runs: 6, epochs: 4, workers: 2, backend: "native", measuredRuns: 2 });
      expect(e.secondsPerEpoch).toBeCloseTo(perEpoch, 9);
      expect(e.seconds).toBeCloseTo(3 * 4 * perEpoch, 9); // 6 runs, 2 at a time
      expect(e.note).toMatch(
        /^measured on native over 2 recent runs \(the nearest in size to each run, scaled by network size × samples\), 2 workers/,
      );

      const gpu = ZEstimate.parse((await estimate({ ...spec, device: "gpu" })).json());
      expect(gpu).toMatchObject({ workers: 0, secondsPerEpoch: null, seconds: null });
    } finally {
      await Promise.all(workers.map((w) => w.close()));
      connection.disconnect();
    }
  });
});
