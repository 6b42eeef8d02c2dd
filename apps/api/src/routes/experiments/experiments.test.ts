import { LIMITS, ZExperiment, ZExperimentList, ZMetricsResponse, ZProblem } from "@actlab/contracts";
import { startRun, TENANT_LOCK_NAMESPACE, tenantLockKey } from "@actlab/db";
import { createRedis, subscribeWhenReady, TRAINING_QUEUE } from "@actlab/queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { holdAdvisoryLock, TEST_REDIS_URL } from "../../../../../tests/support/index.js";
import { bearer, request, SMALL_SPEC, startTestApi, type TestApi } from "../../__tests__/helpers.js";

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi("exp");
});
afterAll(async () => t?.close());

async function create(key: string, body: unknown = SMALL_SPEC, headers: Record<string, string> = {}) {
  return createIn(t, key, body, headers);
}

/** POST /v1/experiments on a given test API (the tests of the limit use apps of their own). */
async function createIn(
  api: TestApi,
  key: string,
  body: unknown = SMALL_SPEC,
  headers: Record<string, string> = {},
) {
  return api.app.inject({
    method: "POST",
    url: "/v1/experiments",
    headers: { ...bearer(key), ...headers },
    payload: body as object,
  });
}

describe("POST /v1/experiments", () => {
  it("stores the experiment with one queued run per variant × repeat and enqueues a job for each", async () => {
    const res = await create(t.keyA);
    expect(res.statusCode).toBe(202);
    const exp = ZExperiment.parse(res.json());
    // The route serializes without re-validating: its body must be exactly the schema, no extra field.
    expect(res.json()).toStrictEqual(exp);
    expect(res.headers.location).toBe(`/v1/experiments/${exp.id}`);
    expect(exp.status).toBe("queued");
    expect(exp.runs).toHaveLength(4);
    expect(exp.runs.map((r) => [r.variant.activation, r.repeat])).toEqual([
      ["relu", 0],
      ["relu", 1],
      ["sigmoid", 0],
      ["sigmoid", 1],
    ]);
    // Same repeat index → same seed across variants (controlled comparison).
    expect(exp.runs[0]!.seed).toBe(exp.runs[2]!.seed);
    expect(exp.runs[0]!.seed).not.toBe(exp.runs[1]!.seed);
    expect(exp.runs.every((r) => r.progress.epochs === 2 && r.progress.epoch === 0)).toBe(true);
    expect(exp.spec.dataset).toEqual({
      name: "mnist",
      samples: 200,
      testFraction: 0.2,
      pixelScale: "unit",
      seed: 1,
    });
    expect(exp.links).toMatchObject({
      self: `/v1/experiments/${exp.id}`,
      events: `/v1/experiments/${exp.id}/events`,
      metrics: `/v1/experiments/${exp.id}/metrics`,
      report: `/v1/experiments/${exp.id}/report`,
    });
    expect(exp.summary.map((s) => [s.variant.activation, s.runs, s.testAccuracy.mean])).toEqual([
      ["relu", 2, null],
      ["sigmoid", 2, null],
    ]);
    const queue = t.app.producer.queues[TRAINING_QUEUE]!;
    for (const run of exp.runs) {
      const job = await queue.getJob(run.id);
      expect(job?.data).toEqual({ runId: run.id, experimentId: exp.id });
    }
    const rows = await t.database.db.run.count({ where: { experimentId: exp.id, status: "queued" } });
    expect(rows).toBe(4);
  });

  it("takes a preset and overrides any field of it", async () => {
    const res = await create(t.keyA, {
      preset: "chapter8-tf",
      training: { epochs: 3, repeats: 1 },
      name: "short",
    });
    expect(res.statusCode).toBe(202);
    const exp = ZExperiment.parse(res.json());
    expect(exp.name).toBe("short");
    expect(exp.spec.training).toMatchObject({ epochs: 3, repeats: 1, batchSize: 200 });
    expect(exp.spec.model.initializer).toEqual({ name: "truncated_normal", stddev: 0.01 });
    expect(exp.runs).toHaveLength(7);
    const unknown = await create(t.keyA, { preset: "nope" });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors).toEqual([{ path: "preset", message: 'unknown preset "nope"' }]);
  });

  it("reports every invalid field with a dotted path, as problem+json", async () => {
    const res = await create(t.keyA, {
      variants: [{ activation: "relu" }, { activation: "leaky_relu", alpha: 7 }, { activation: "swish" }],
      training: { epochs: LIMITS.maxEpochs + 1 },
      model: { hiddenLayers: 11, units: 5000 },
      extra: 1,
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    const p = ZProblem.parse(res.json());
    expect(p.type).toBe("/problems/validation");
    const paths = p.errors!.map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "variants.1.alpha",
        "variants.2.activation",
        "training.epochs",
        "model.hiddenLayers",
        "model.units",
      ]),
    );
    expect(JSON.stringify(p)).not.toMatch(/at \w+ \(|node_modules/);
  });

  it("refuses a name with a NUL character (Postgres cannot store it) as a 400 naming the field, storing nothing", async () => {
    const before = await t.database.db.experiment.count();
    const res = await create(t.keyA, { preset: "chapter8-keras", name: "a\u0000b" });
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(ZProblem.parse(res.json()).errors).toEqual([
      expect.objectContaining({ path: "name", message: expect.stringContaining("U+0000") }),
    ]);
    expect(await t.database.db.experiment.count()).toBe(before);
  });

  it("enforces cells × variants × repeats per experiment before storing anything, saying how many runs", async () => {
    const before = await t.database.db.run.count();
    const variants = Array.from({ length: 16 }, () => ({ activation: "relu" }));
    const res = await create(t.keyA, {
      variants,
      training: { repeats: 10 },
      sweep: { "model.units": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13] },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.json().errors).toEqual([
      expect.objectContaining({
        path: "sweep",
        message: expect.stringContaining("this request makes 2080 runs"),
      }),
    ]);
    const big = await create(t.keyA, {
      variants,
      training: { repeats: 10 },
      sweep: { "model.hiddenLayers": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "model.units": [8, 16] },
    });
    expect(big.json().errors[0].message).toContain(
      "this request makes 3200 runs (20 cells × 16 variants × 10 repeats)",
    );
    expect(await t.database.db.run.count()).toBe(before);
  });

  it("expands a sweep into cells × variants × repeats; a repeat's seed is shared across cells and variants", async () => {
    const res = await create(t.keyA, {
      ...SMALL_SPEC,
      variants: [{ activation: "sigmoid" }, { activation: "relu" }],
      training: { ...SMALL_SPEC.training, repeats: 2 },
      sweep: { "model.hiddenLayers": [1, 3], "training.optimizer.learningRate": [0.01, 0.1] },
    });
    expect(res.statusCode).toBe(202);
    const exp = ZExperiment.parse(res.json());
    expect(exp.runs).toHaveLength(4 * 2 * 2);
    expect(exp.runs.slice(0, 4).map((r) => [r.cell, r.variant.activation, r.repeat])).toEqual([
      [{ "model.hiddenLayers": 1, "training.optimizer.learningRate": 0.01 }, "sigmoid", 0],
      [{ "model.hiddenLayers": 1, "training.optimizer.learningRate": 0.01 }, "sigmoid", 1],
      [{ "model.hiddenLayers": 1, "training.optimizer.learningRate": 0.01 }, "relu", 0],
      [{ "model.hiddenLayers": 1, "training.optimizer.learningRate": 0.01 }, "relu", 1],
    ]);
    const seeds = (repeat: number) => new Set(exp.runs.filter((r) => r.repeat === repeat).map((r) => r.seed));
    expect(seeds(0).size).toBe(1);
    expect(seeds(1).size).toBe(1);
    expect([...seeds(0)]).not.toEqual([...seeds(1)]);
    expect(exp.summary.map((s) => [s.cell["model.hiddenLayers"], s.variant.activation])).toEqual([
      [1, "sigmoid"],
      [1, "relu"],
      [1, "sigmoid"],
      [1, "relu"],
      [3, "sigmoid"],
      [3, "relu"],
      [3, "sigmoid"],
      [3, "relu"],
    ]);
    expect(exp.comparisons).toHaveLength(4);
    expect(exp.comparisons[0]).toMatchObject({ test: "untestable", significant: false, pValue: null });
    // GET shows the same runs and cells as the 202 did.
    const got = ZExperiment.parse(
      (
        await t.app.inject({ method: "GET", url: `/v1/experiments/${exp.id}`, headers: bearer(t.keyA) })
      ).json(),
    );
    expect(got.runs.map((r) => [r.id, r.cell])).toEqual(exp.runs.map((r) => [r.id, r.cell]));
    expect(await t.database.db.run.count({ where: { experimentId: exp.id } })).toBe(16);

    // The metrics of one cell: its swept values as JSON, in any key order.
    const cell = encodeURIComponent('{"training.optimizer.learningRate":0.1,"model.hiddenLayers":3}');
    const one = ZMetricsResponse.parse(
      (await request(t, "GET", `/v1/experiments/${exp.id}/metrics?cell=${cell}&fields=testAccuracy`)).json(),
    );
    expect(one.runs.map((r) => r.id)).toEqual(exp.runs.slice(12).map((r) => r.id));
    const bad = await request(t, "GET", `/v1/experiments/${exp.id}/metrics?cell=nope`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe("cell");
  });

  it("refuses more samples than the dataset has at submit, naming the field and the available count", async () => {
    const before = await t.database.db.experiment.count();
    const res = await create(t.keyA, { ...SMALL_SPEC, dataset: { name: "mnist", samples: 20_000 } });
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    const p = ZProblem.parse(res.json());
    expect(p.errors).toEqual([
      { path: "dataset.samples", message: expect.stringMatching(/^at most 10,000: .*has 10,000 samples/) },
    ]);
    expect(await t.database.db.experiment.count()).toBe(before); // nothing stored
    // Exactly the available count is fine.
    const ok = await create(t.keyA, { ...SMALL_SPEC, dataset: { name: "mnist", samples: 10_000 } });
    expect(ok.statusCode).toBe(202);
  });

  it("Idempotency-Key: the same key and body give the same experiment; another body is a 409", async () => {
    const key = { "idempotency-key": "same-key-1" };
    const first = await create(t.keyA, SMALL_SPEC, key);
    const again = await create(t.keyA, SMALL_SPEC, key);
    expect(first.statusCode).toBe(202);
    expect(again.statusCode).toBe(202);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.json().id).toBe(first.json().id);
    expect(again.json().runs.map((r: { id: string }) => r.id)).toEqual(
      first.json().runs.map((r: { id: string }) => r.id),
    );

    const other = await create(t.keyA, { ...SMALL_SPEC, name: "different" }, key);
    expect(other.statusCode).toBe(409);
    expect(other.json().type).toBe("/problems/idempotency-conflict");

    // Keys are per tenant: B may use the same key for its own experiment.
    const b = await create(t.keyB, SMALL_SPEC, key);
    expect(b.statusCode).toBe(202);
    expect(b.json().id).not.toBe(first.json().id);
  });

  it("Idempotency-Key under 10 concurrent retries creates exactly one experiment", async () => {
    const key = { "idempotency-key": "concurrent-key" };
    const results = await Promise.all(Array.from({ length: 10 }, () => create(t.keyA, SMALL_SPEC, key)));
    expect(results.map((r) => r.statusCode)).toEqual(Array(10).fill(202));
    expect(new Set(results.map((r) => r.json().id)).size).toBe(1);
    const count = await t.database.db.experiment.count({ where: { idempotencyKey: "concurrent-key" } });
    expect(count).toBe(1);
    const runs = await t.database.db.run.count({ where: { experimentId: results[0]!.json().id } });
    expect(runs).toBe(4);
  });
});

describe("GET /v1/experiments", () => {
  it("lists newest first with cursor pagination and a status filter, only the caller's", async () => {
    const own = await request(t, "GET", "/v1/experiments?limit=100");
    const all = ZExperimentList.parse(own.json()).items;
    expect(all.length).toBeGreaterThanOrEqual(3);
    const sorted = [...all].sort((a, b) =>
      a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1,
    );
    expect(all.map((e) => e.id)).toEqual(sorted.map((e) => e.id));

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/experiments?limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const page = await t.app.inject({ method: "GET", url, headers: bearer(t.keyA) });
      expect(page.statusCode).toBe(200);
      const body = ZExperimentList.parse(page.json());
      expect(body.items.length).toBeLessThanOrEqual(2);
      seen.push(...body.items.map((e) => e.id));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((e) => e.id));

    const b = await request(t, "GET", "/v1/experiments?limit=100", { key: t.keyB });
    const bIds = ZExperimentList.parse(b.json()).items.map((e) => e.id);
    expect(bIds.some((id) => seen.includes(id))).toBe(false);

    const canceled = await request(t, "GET", "/v1/experiments?status=canceled,failed");
    expect(
      ZExperimentList.parse(canceled.json()).items.every((e) => ["canceled", "failed"].includes(e.status)),
    ).toBe(true);
    const item = all[0]!;
    expect(Object.values(item.runCounts).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);

    const bad = await request(t, "GET", "/v1/experiments?status=bogus&limit=0");
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
    ).toEqual(["limit", "status.0"]);
    const badCursor = await request(t, "GET", "/v1/experiments?cursor=zzz");
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().errors[0].path).toBe("cursor");
  });
});

describe("GET /v1/experiments: search, filters, orders, best variant", () => {
  it("finds experiments by name, activation and day, sorts them, and names each one's best variant", async () => {
    const tag = `list${Math.random().toString(36).slice(2, 8)}`;
    const make = async (name: string, variants: object[]) =>
      ZExperiment.parse((await create(t.keyA, { ...SMALL_SPEC, name: `${tag} ${name}`, variants })).json());
    const alpha = await make("alpha", [{ activation: "relu" }, { activation: "sigmoid" }]);
    const beta = await make("Beta_%", [{ activation: "tanh" }]);
    const gamma = await make("gamma", [{ activation: "relu" }]);
    const list = async (query: string) => {
      const res = await request(t, "GET", `/v1/experiments?${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return ZExperimentList.parse(res.json());
    };
    const names = async (query: string) => (await list(query)).items.map((e) => e.name.slice(tag.length + 1));

    expect(await names(`q=${tag}`)).toEqual(["gamma", "Beta_%", "alpha"]); // newest first
    expect(await names(`q=${tag.toUpperCase()}%20beta_%25`)).toEqual(["Beta_%"]); // any case; % and _ literal
    expect(await names(`q=${tag}%25`)).toEqual([]);
    expect(await names(`q=${tag}&activation=tanh`)).toEqual(["Beta_%"]);
    expect(await names(`q=${tag}&activation=relu,tanh&sort=oldest`)).toEqual(["alpha", "Beta_%", "gamma"]);

    // By name, a page at a time: the cursor continues the same order.
    const first = await list(`q=${tag}&sort=name&limit=2`);
    expect(first.items.map((e) => e.id)).toEqual([alpha.id, beta.id]);
    const second = await list(`q=${tag}&sort=name&limit=2&cursor=${first.nextCursor}`);
    expect(second.items.map((e) => e.id)).toEqual([gamma.id]);
    expect(second.nextCursor).toBeNull();
    const mixed = await request(t, "GET", `/v1/experiments?sort=newest&cursor=${first.nextCursor}`);
    expect(mixed.statusCode).toBe(400);
    expect(mixed.json().errors[0]).toMatchObject({
      path: "cursor",
      message: expect.stringContaining("sort=name"),
    });

    // Days are UTC calendar days, both ends included.
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    expect(await names(`q=${tag}&createdFrom=${day(0)}&createdTo=${day(0)}`)).toHaveLength(3);
    expect(await names(`q=${tag}&createdFrom=${day(1)}`)).toEqual([]);
    expect(await names(`q=${tag}&createdTo=${day(-1)}`)).toEqual([]);
    const backwards = await request(t, "GET", `/v1/experiments?createdFrom=${day(0)}&createdTo=${day(-1)}`);
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json().errors[0].path).toBe("createdTo");
    const badDay = await request(t, "GET", "/v1/experiments?createdFrom=yesterday");
    expect(badDay.statusCode).toBe(400);

    // Best variant: the highest mean test accuracy over succeeded runs.
    expect((await list(`q=${tag}%20alpha`)).items[0]!.best).toBeNull();
    const db = t.database.db;
    const [relu0, relu1, sigmoid0] = alpha.runs;
    await db.run.update({ where: { id: relu0!.id }, data: { status: "succeeded", testAccuracy: 0.9 } });
    await db.run.update({ where: { id: relu1!.id }, data: { status: "succeeded", testAccuracy: 0.8 } });
    await db.run.update({ where: { id: sigmoid0!.id }, data: { status: "succeeded", testAccuracy: 0.95 } });
    await db.run.update({ where: { id: alpha.runs[3]!.id }, data: { status: "failed", testAccuracy: null } });
    const best = (await list(`q=${tag}%20alpha`)).items[0]!.best;
    expect(best).toEqual({ variant: { activation: "sigmoid" }, testAccuracy: 0.95 });

    // By best accuracy, highest first, a page at a time; without a result last. beta's best is
    // a mean (0.6 and 0.4 → 0.5) that ties gamma's single 0.5: ties in descending id order.
    await db.run.update({
      where: { id: beta.runs[0]!.id },
      data: { status: "succeeded", testAccuracy: 0.6 },
    });
    await db.run.update({
      where: { id: beta.runs[1]!.id },
      data: { status: "succeeded", testAccuracy: 0.4 },
    });
    const none = await make("none", [{ activation: "relu" }]);
    await db.run.update({
      where: { id: gamma.runs[0]!.id },
      data: { status: "succeeded", testAccuracy: 0.5 },
    });
    const tied = [beta.id, gamma.id].sort().reverse();
    const byAccuracy: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`q=${tag}&sort=accuracy&limit=1${cursor ? `&cursor=${cursor}` : ""}`);
      byAccuracy.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor && byAccuracy.length < 10);
    expect(byAccuracy).toEqual([alpha.id, ...tied, none.id]);
    const wrongKey = Buffer.from(JSON.stringify(["accuracy", "high", alpha.id])).toString("base64url");
    const badAccuracyCursor = await t.app.inject({
      method: "GET",
      url: `/v1/experiments?sort=accuracy&cursor=${wrongKey}`,
      headers: bearer(t.keyA),
    });
    expect(badAccuracyCursor.statusCode).toBe(400);
    expect(badAccuracyCursor.json().errors[0].path).toBe("cursor");
  });
});

describe("GET /v1/experiments/:id", () => {
  it("summarises each variant over its repeats and hides other tenants' experiments", async () => {
    const exp = ZExperiment.parse((await create(t.keyA)).json());
    const db = t.database.db;
    const [r0, r1, s0] = exp.runs;
    const metrics = (runId: string, epoch: number, gradNorms: number[]) =>
      db.epochMetric.create({
        data: {
          runId,
          epoch,
          trainLoss: 1,
          trainAccuracy: 0.5,
          testLoss: 1,
          testAccuracy: 0.5,
          gradNorms,
          deadFraction: [0, 0],
          saturatedFraction: [0, 0],
          preluAlphaMean: [],
          seconds: 1,
        },
      });
    await db.run.update({
      where: { id: r0!.id },
      data: { status: "succeeded", testAccuracy: 0.9, testLoss: 0.3, seconds: 10, epochsCompleted: 2 },
    });
    await db.run.update({
      where: { id: r1!.id },
      data: { status: "succeeded", testAccuracy: 0.8, testLoss: 0.5, seconds: 20, epochsCompleted: 2 },
    });
    await db.run.update({
      where: { id: s0!.id },
      data: { status: "running", epochsCompleted: 1, attempts: 1, backend: "cpu" },
    });
    await metrics(r0!.id, 1, [9, 9, 9]);
    await metrics(r0!.id, 2, [1, 2, 4]); // final epoch: ratio 0.25
    await metrics(r1!.id, 2, [3, 1, 4]); // 0.75
    await metrics(s0!.id, 1, [0.001, 0.1, 1]); // 0.001

    const res = await request(t, "GET", `/v1/experiments/${exp.id}`);
    expect(res.statusCode).toBe(200);
    const got = ZExperiment.parse(res.json());
    expect(res.json()).toStrictEqual(got);
    const relu = got.summary[0]!;
    expect(relu.runs).toBe(2);
    expect(relu.testAccuracy.mean).toBeCloseTo(0.85, 10);
    expect(relu.testAccuracy.std).toBeCloseTo(Math.sqrt(0.005), 10);
    expect(relu.testLoss.mean).toBeCloseTo(0.4, 10);
    expect(relu.seconds.mean).toBe(15);
    expect(relu.gradNormRatio.mean).toBeCloseTo(0.5, 10);
    const sigmoid = got.summary[1]!;
    expect(sigmoid.testAccuracy).toEqual({ mean: null, std: null, ci95: null });
    // Two repeats: the t interval of the mean (SciPy: 0.85 ± 12.706·0.05).
    expect(relu.testAccuracy.ci95![0]).toBeCloseTo(0.85 - 12.706204736174707 * 0.05, 8);
    expect(relu.testAccuracy.ci95![1]).toBeCloseTo(0.85 + 12.706204736174707 * 0.05, 8);
    expect(sigmoid.gradNormRatio.mean).toBeCloseTo(0.001, 10);
    const running = got.runs.find((r) => r.id === s0!.id)!;
    expect(running).toMatchObject({
      status: "running",
      attempts: 1,
      backend: "cpu",
      progress: { epoch: 1, epochs: 2 },
    });

    for (const url of [
      `/v1/experiments/${exp.id}`,
      "/v1/experiments/not-a-uuid",
      "/v1/experiments/00000000-0000-0000-0000-000000000000",
    ]) {
      const other = await t.app.inject({
        method: "GET",
        url,
        headers: bearer(url.includes(exp.id) ? t.keyB : t.keyA),
      });
      expect(other.statusCode).toBe(404);
      expect(other.json().type).toBe("/problems/not-found");
    }
  });
});

describe("a run whose worker stopped reporting", () => {
  it("is stale once nothing was written for RUN_STALE_AFTER_MS, and says which epoch it resumed from", async () => {
    const exp = ZExperiment.parse((await create(t.keyA)).json());
    expect(exp.runs.every((r) => r.stale === false && r.resumedFromEpoch === null)).toBe(true);
    const db = t.database.db;
    const runId = exp.runs[0]!.id;
    // A worker trained 3 epochs, checkpointed at epoch 2, died; another took the run over.
    await startRun(db, { runId, workerId: "w1", backend: "cpu" });
    await db.checkpoint.create({ data: { runId, epoch: 2, weights: Buffer.from([1]), state: {} } });
    await db.run.update({ where: { id: runId }, data: { epochsCompleted: 3 } });
    await startRun(db, { runId, workerId: "w2", backend: "cpu" });

    const get = async () => {
      const res = await request(t, "GET", `/v1/experiments/${exp.id}`);
      return ZExperiment.parse(res.json()).runs.find((r) => r.id === runId)!;
    };
    const fresh = await get();
    expect(fresh).toMatchObject({ status: "running", attempts: 2, resumedFromEpoch: 2, stale: false });
    expect(Date.now() - Date.parse(fresh.updatedAt)).toBeLessThan(10_000);

    // Its worker went silent: no epoch, no heartbeat for longer than the threshold (30 s by default).
    const silentSince = new Date(Date.now() - 31_000);
    await db.run.update({ where: { id: runId }, data: { updatedAt: silentSince } });
    const stale = await get();
    expect(stale).toMatchObject({ status: "running", stale: true, updatedAt: silentSince.toISOString() });
    const one = await t.app.inject({ method: "GET", url: `/v1/runs/${runId}`, headers: bearer(t.keyA) });
    expect(one.json()).toMatchObject({ stale: true, resumedFromEpoch: 2 });
    // Queued runs are never stale, however old.
    await db.run.update({ where: { id: exp.runs[1]!.id }, data: { updatedAt: silentSince } });
    const queued = await request(t, "GET", `/v1/runs/${exp.runs[1]!.id}`);
    expect(queued.json()).toMatchObject({ status: "queued", stale: false });
  });
});

describe("GET /v1/experiments/:id/metrics", () => {
  it("returns columnar series per run, filterable by run and field", async () => {
    const exp = ZExperiment.parse(
      (
        await create(t.keyA, { ...SMALL_SPEC, variants: [{ activation: "prelu" }, { activation: "tanh" }] })
      ).json(),
    );
    const db = t.database.db;
    for (const run of exp.runs.slice(0, 3)) {
      for (const epoch of [2, 1]) {
        await db.epochMetric.create({
          data: {
            runId: run.id,
            epoch,
            trainLoss: 2 / epoch,
            trainAccuracy: 0.4 * epoch,
            testLoss: 3 / epoch,
            testAccuracy: 0.3 * epoch,
            gradNorms: [epoch, 2 * epoch, 3 * epoch],
            deadFraction: [0.1, 0.2],
            saturatedFraction: [0, 0.5],
            preluAlphaMean: run.variant.activation === "prelu" ? [0.01 * epoch, 0.02] : [],
            seconds: epoch,
          },
        });
      }
    }
    const res = await request(t, "GET", `/v1/experiments/${exp.id}/metrics`);
    expect(res.statusCode).toBe(200);
    const body = ZMetricsResponse.parse(res.json());
    type Run = (typeof body.runs)[number];
    expect(body.runs).toHaveLength(4);
    const [p0, , t0, t1] = body.runs as [Run, Run, Run, Run];
    expect(p0.series).toEqual({
      epoch: [1, 2],
      trainLoss: [2, 1],
      trainAccuracy: [0.4, 0.8],
      testLoss: [3, 1.5],
      testAccuracy: [0.3, 0.6],
      gradNorms: [
        [1, 2, 3],
        [2, 4, 6],
      ],
      deadFraction: [
        [0.1, 0.2],
        [0.1, 0.2],
      ],
      saturatedFraction: [
        [0, 0.5],
        [0, 0.5],
      ],
      preluAlphaMean: [
        [0.01, 0.02],
        [0.02, 0.02],
      ],
      seconds: [1, 2],
    });
    expect(t0.series.preluAlphaMean).toBeNull();
    expect(t1.series.epoch).toEqual([]);

    const filtered = await request(
      t,
      "GET",
      `/v1/experiments/${exp.id}/metrics?runs=${t0.id}&fields=testAccuracy,gradNorms&afterEpoch=1`,
    );
    expect(filtered.json()).toEqual({
      runs: [
        {
          id: t0.id,
          variant: { activation: "tanh" },
          cell: {},
          repeat: 0,
          status: "queued",
          series: { epoch: [2], testAccuracy: [0.6], gradNorms: [[2, 4, 6]] },
        },
      ],
    });
    const badField = await request(t, "GET", `/v1/experiments/${exp.id}/metrics?fields=nope`);
    expect(badField.statusCode).toBe(400);
    expect(badField.json().errors[0].path).toBe("fields.0");
    const other = await request(t, "GET", `/v1/experiments/${exp.id}/metrics`, { key: t.keyB });
    expect(other.statusCode).toBe(404);
  });
});

describe("cancel and delete", () => {
  it("cancel pulls queued runs out of the queue, signals running ones, and is idempotent", async () => {
    const exp = ZExperiment.parse((await create(t.keyA)).json());
    const db = t.database.db;
    const running = exp.runs[0]!;
    await db.run.update({ where: { id: running.id }, data: { status: "running", attempts: 1 } });
    // A worker holds the running run's job: take it out of the waiting list as BullMQ would.
    await t.app.producer.queues[TRAINING_QUEUE]!.remove(running.id);

    const sub = createRedis(TEST_REDIS_URL, { role: "subscriber" });
    const cancels: string[][] = [];
    sub.on("message", (_c, m) => cancels.push(JSON.parse(m).runIds));
    await subscribeWhenReady(sub, t.app.channels.cancel);
    expect(t.app.channels.cancel).toBe(`${t.prefix}:cancel`);

    const other = await request(t, "POST", `/v1/experiments/${exp.id}/cancel`, { key: t.keyB });
    expect(other.statusCode).toBe(404);

    const res = await request(t, "POST", `/v1/experiments/${exp.id}/cancel`);
    expect(res.statusCode).toBe(202);
    const after = ZExperiment.parse(res.json());
    expect(after.runs.map((r) => r.status)).toEqual(["running", "canceled", "canceled", "canceled"]);
    expect(after.status).toBe("running");
    const queue = t.app.producer.queues[TRAINING_QUEUE]!;
    for (const r of exp.runs.slice(1)) expect(await queue.getJob(r.id)).toBeUndefined();
    const flagged = await db.run.findUnique({ where: { id: running.id } });
    expect(flagged?.cancelRequested).toBe(true);
    await expect.poll(() => cancels.flat()).toContain(running.id);
    const events = await db.experimentEvent.findMany({
      where: { experimentId: exp.id },
      orderBy: { id: "asc" },
    });
    expect(events.map((e) => e.type)).toEqual(["run.canceled", "run.canceled", "run.canceled"]);

    // The worker stops the running one; a second cancel changes nothing more.
    await db.run.update({ where: { id: running.id }, data: { status: "canceled" } });
    const again = await request(t, "POST", `/v1/experiments/${exp.id}/cancel`, {
      headers: { "content-type": "application/json" },
    });
    expect(again.statusCode).toBe(202);
    expect(await db.experimentEvent.count({ where: { experimentId: exp.id } })).toBe(3);
    sub.disconnect();
  });

  it("cancel of a fully queued experiment finishes it and records experiment.finished", async () => {
    const exp = ZExperiment.parse((await create(t.keyA)).json());
    const res = await request(t, "POST", `/v1/experiments/${exp.id}/cancel`);
    expect(res.json().status).toBe("canceled");
    const events = await t.database.db.experimentEvent.findMany({
      where: { experimentId: exp.id },
      orderBy: { id: "asc" },
    });
    expect(events.map((e) => e.type)).toEqual([...Array(4).fill("run.canceled"), "experiment.finished"]);
    expect(events[4]!.data).toEqual({ experimentId: exp.id, status: "canceled" });
  });

  it("delete removes the rows and the queued jobs; other tenants get 404", async () => {
    const exp = ZExperiment.parse((await create(t.keyA)).json());
    const other = await request(t, "DELETE", `/v1/experiments/${exp.id}`, { key: t.keyB });
    expect(other.statusCode).toBe(404);
    const res = await request(t, "DELETE", `/v1/experiments/${exp.id}`);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe("");
    expect(await t.database.db.run.count({ where: { experimentId: exp.id } })).toBe(0);
    const queue = t.app.producer.queues[TRAINING_QUEUE]!;
    for (const r of exp.runs) expect(await queue.getJob(r.id)).toBeUndefined();
    const gone = await request(t, "GET", `/v1/experiments/${exp.id}`);
    expect(gone.statusCode).toBe(404);
  });
});

describe("active runs per tenant", () => {
  it("refuses an experiment that would exceed the limit with a 429 problem", async () => {
    const fresh = await startTestApi("limit");
    try {
      const variants = Array.from({ length: 16 }, () => ({ activation: "relu" }));
      const body = { variants, training: { repeats: 4, epochs: 1 } }; // 64 runs
      // Six at once: the per-tenant lock lets exactly four (4 × 64 = 256) through.
      const statuses = await Promise.all(Array.from({ length: 6 }, () => createIn(fresh, fresh.keyA, body)));
      expect(statuses.map((r) => r.statusCode).sort()).toEqual([202, 202, 202, 202, 429, 429]);
      expect(LIMITS.maxActiveRunsPerTenant).toBe(256);
      expect(await fresh.database.db.run.count({ where: { experiment: { tenantId: fresh.tenantA } } })).toBe(
        256,
      );
      const over = await createIn(fresh, fresh.keyA, SMALL_SPEC);
      expect(over.statusCode).toBe(429);
      expect(over.json().type).toBe("/problems/active-runs-limit");
      expect(over.headers["retry-after"]).toBe("60");
      // Another tenant is not affected.
      const b = await createIn(fresh, fresh.keyB, SMALL_SPEC);
      expect(b.statusCode).toBe(202);
    } finally {
      await fresh.close();
    }
  });

  it("counts only the tenant's queued and running runs: finished ones free their slots", async () => {
    const fresh = await startTestApi("limit2");
    try {
      const variants = Array.from({ length: 16 }, () => ({ activation: "relu" }));
      const body = { variants, training: { repeats: 4, epochs: 1 } }; // 64 runs
      const post = (key: string) => createIn(fresh, key, body);
      // Tenant B's active runs never count against tenant A.
      for (let i = 0; i < 4; i++) expect((await post(fresh.keyB)).statusCode).toBe(202);
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await post(fresh.keyA);
        expect(res.statusCode).toBe(202);
        ids.push(res.json().id);
      }
      expect((await post(fresh.keyA)).statusCode).toBe(429);
      // One experiment's runs: 32 running (still active), 32 finished (free).
      const runs = await fresh.database.db.run.findMany({
        where: { experimentId: ids[0]! },
        select: { id: true },
        orderBy: [{ variantIndex: "asc" }, { repeat: "asc" }],
      });
      const ended = ["succeeded", "failed", "canceled"] as const;
      await fresh.database.db.run.updateMany({
        where: { id: { in: runs.slice(0, 32).map((r) => r.id) } },
        data: { status: "running" },
      });
      for (const [i, r] of runs.slice(32).entries()) {
        await fresh.database.db.run.update({ where: { id: r.id }, data: { status: ended[i % 3]! } });
      }
      const small = (n: number, repeats: number) => ({
        variants: Array.from({ length: n }, () => ({ activation: "relu" })),
        training: { repeats, epochs: 1 },
      });
      const ok = await createIn(fresh, fresh.keyA, small(16, 2)); // 32 runs
      expect(ok.statusCode).toBe(202);
      const over = await createIn(fresh, fresh.keyA, small(1, 1));
      expect(over.statusCode).toBe(429);
      expect(over.json().detail).toContain("this tenant has 256 queued or running runs");
    } finally {
      await fresh.close();
    }
  });

  it("counts the runs exactly when an experiment's run count is unknown (rows not made by the API)", async () => {
    const fresh = await startTestApi("limit3");
    try {
      // 250 queued runs in an experiment stored without runCount, as a script or an older version might.
      await fresh.database.db.experiment.create({
        data: {
          tenantId: fresh.tenantA,
          name: "imported",
          spec: {},
          runs: {
            create: Array.from({ length: 250 }, (_, i) => ({
              variantIndex: i,
              variant: { activation: "relu" },
              repeat: 0,
              seed: 1,
              device: "cpu",
              epochs: 1,
            })),
          },
        },
      });
      const withRepeats = (repeats: number) => ({
        ...SMALL_SPEC,
        training: { ...SMALL_SPEC.training, repeats },
      });
      const over = await createIn(fresh, fresh.keyA, withRepeats(4)); // 8 runs
      expect(over.statusCode).toBe(429);
      expect(over.json().detail).toContain(
        "this tenant has 250 queued or running runs and the experiment adds 8",
      );
      const fits = await createIn(fresh, fresh.keyA, withRepeats(3)); // 6 runs
      expect(fits.statusCode).toBe(202);
      const stored = await fresh.database.db.experiment.findUniqueOrThrow({ where: { id: fits.json().id } });
      expect(stored.runCount).toBe(6);
    } finally {
      await fresh.close();
    }
  });

  it("a tenant's burst waiting on its lock holds one pooled connection, so other tenants are served", async () => {
    const fresh = await startTestApi("burst", { DB_POOL_SIZE: "3" });
    // Another session holds tenant A's advisory lock, as a slow creation in another API process would.
    const holder = await holdAdvisoryLock(
      fresh.database.url,
      TENANT_LOCK_NAMESPACE,
      tenantLockKey(fresh.tenantA),
    );
    try {
      const burst = Array.from({ length: 12 }, () => createIn(fresh, fresh.keyA, SMALL_SPEC));
      // With every pooled connection waiting on A's lock, B would wait for the pool and get a 503 after 5 s.
      const started = Date.now();
      const b = await createIn(fresh, fresh.keyB, SMALL_SPEC);
      expect(b.statusCode).toBe(202);
      const read = await fresh.app.inject({
        url: `/v1/experiments/${b.json().id}`,
        headers: bearer(fresh.keyB),
      });
      expect(read.statusCode).toBe(200);
      expect(Date.now() - started).toBeLessThan(4_000);
      await holder.release();
      const answers = await Promise.all(burst);
      expect(answers.map((r) => r.statusCode)).toEqual(Array(12).fill(202));
      expect(await fresh.database.db.experiment.count({ where: { tenantId: fresh.tenantA } })).toBe(12);
    } finally {
      await holder.release(); // a no-op when the test got as far as releasing it
      await fresh.close();
    }
  });
});
