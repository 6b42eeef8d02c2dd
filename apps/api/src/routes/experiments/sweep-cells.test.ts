import { type TExperiment, ZContinueResponse, ZExperiment, ZReport } from "@actlab/contracts";
import { findExperimentWithRuns, findLatestGradNorms, startRun, storeEpoch } from "@actlab/db";
import { TRAINING_QUEUE } from "@actlab/queue";
import { describe, expect, it } from "vitest";
import { plainEpoch } from "../../../../../tests/support/index.js";
import { bearer, SMALL_SPEC, testApiForFile } from "../../__tests__/helpers.js";
import { finishRuns } from "../../__tests__/lifecycle.js";
import { computeStatistics } from "../../services/experiment-statistics.js";

/*
 * Issue 14: idempotency, cancel, delete, continue and reports work per cell. Each test makes a
 * swept experiment of 2 cells × 2 variants × 2 repeats (8 runs, tiny network; nothing trains:
 * the tests move runs through the lifecycle as a worker would).
 */

const t = testApiForFile("sweep-cells");

const SWEEP = {
  ...SMALL_SPEC,
  name: "per cell",
  variants: [{ activation: "relu" }, { activation: "sigmoid" }],
  sweep: { "model.hiddenLayers": [1, 3] },
};
const CELLS = [{ "model.hiddenLayers": 1 }, { "model.hiddenLayers": 3 }];

const request = (method: "GET" | "POST" | "DELETE", url: string, payload?: object, key = t.keyA) =>
  t.app.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });

/** POST /v1/experiments as tenant A, with these extra headers (an Idempotency-Key). */
const create = (body: object, headers: Record<string, string> = {}) =>
  t.app.inject({
    method: "POST",
    url: "/v1/experiments",
    headers: { ...bearer(t.keyA), ...headers },
    payload: body,
  });

async function submit(body: object = SWEEP, headers: Record<string, string> = {}): Promise<TExperiment> {
  const res = await create(body, headers);
  expect(res.statusCode).toBe(202);
  return ZExperiment.parse(res.json());
}

const read = async (id: string) => ZExperiment.parse((await request("GET", `/v1/experiments/${id}`)).json());
/** What each run is, cell by cell: [layers, activation, repeat, status]. */
const shape = (exp: TExperiment) =>
  exp.runs.map((r) => [r.cell["model.hiddenLayers"], r.variant.activation, r.repeat, r.status]);

/** Starts the run as a worker would; the returned function stores epoch `e` with this first-layer gradient norm (last 1). */
async function startStoringEpochs(runId: string) {
  const db = t.database.db;
  const started = await startRun(db, { runId, workerId: "test", backend: "test" });
  return (e: number, first: number) =>
    storeEpoch(db, {
      runId,
      attempt: started!.attempts,
      metrics: plainEpoch(e, { gradNorms: [first, 0.5, 1] }),
      checkpoint: null,
    });
}

describe("a swept experiment, per cell", () => {
  it("an idempotent retry returns the same experiment with every cell's runs; another sweep is a 409", async () => {
    const key = { "idempotency-key": "sweep-retry" };
    const first = await submit(SWEEP, key);
    expect(first.runs).toHaveLength(8);
    // The same request again, its sweep's and spec's keys in another order.
    const { sweep, ...rest } = SWEEP;
    const reordered = { sweep, ...Object.fromEntries(Object.entries(rest).reverse()) };
    const res = await create(reordered, key);
    expect(res.statusCode).toBe(202);
    expect(res.headers["idempotent-replayed"]).toBe("true");
    const again = ZExperiment.parse(res.json());
    expect(again.id).toBe(first.id);
    expect(again.runs.map((r) => [r.id, r.cell, r.seed])).toEqual(
      first.runs.map((r) => [r.id, r.cell, r.seed]),
    );
    expect(again.summary.map((s) => s.cell)).toEqual([CELLS[0], CELLS[0], CELLS[1], CELLS[1]]);
    expect(await t.database.db.experiment.count({ where: { idempotencyKey: "sweep-retry" } })).toBe(1);

    const other = await create({ ...SWEEP, sweep: { "model.hiddenLayers": [1, 4] } }, key);
    expect(other.statusCode).toBe(409);
    expect(await t.database.db.run.count({ where: { experimentId: first.id } })).toBe(8);
  });

  it("cancel cancels the queued runs of every cell and signals the running one", async () => {
    const exp = await submit();
    const db = t.database.db;
    const running = exp.runs[6]!; // cell 2, sigmoid, repeat 0
    await db.run.update({ where: { id: running.id }, data: { status: "running", attempts: 1 } });
    const queue = t.app.producer.queues[TRAINING_QUEUE]!;
    await queue.remove(running.id);

    const res = await request("POST", `/v1/experiments/${exp.id}/cancel`);
    expect(res.statusCode).toBe(202);
    const after = ZExperiment.parse(res.json());
    expect(shape(after)).toEqual([
      [1, "relu", 0, "canceled"],
      [1, "relu", 1, "canceled"],
      [1, "sigmoid", 0, "canceled"],
      [1, "sigmoid", 1, "canceled"],
      [3, "relu", 0, "canceled"],
      [3, "relu", 1, "canceled"],
      [3, "sigmoid", 0, "running"],
      [3, "sigmoid", 1, "canceled"],
    ]);
    for (const r of exp.runs) expect(await queue.getJob(r.id)).toBeUndefined();
    expect((await db.run.findUnique({ where: { id: running.id } }))?.cancelRequested).toBe(true);
  });

  it("delete removes the runs, epochs and jobs of every cell", async () => {
    const exp = await submit();
    const queue = t.app.producer.queues[TRAINING_QUEUE]!;
    // One run trained (a worker took its job); the other cells' and variants' runs wait.
    await queue.remove(exp.runs[0]!.id);
    await finishRuns(t.database.db, { id: exp.id, runs: exp.runs.slice(0, 1) });
    for (const r of exp.runs.slice(1)) expect(await (await queue.getJob(r.id))?.getState()).toBe("waiting");
    const res = await request("DELETE", `/v1/experiments/${exp.id}`);
    expect(res.statusCode).toBe(204);
    const runIds = exp.runs.map((r) => r.id);
    expect(await t.database.db.run.count({ where: { experimentId: exp.id } })).toBe(0);
    expect(await t.database.db.epochMetric.count({ where: { runId: { in: runIds } } })).toBe(0);
    for (const id of runIds) expect(await queue.getJob(id)).toBeUndefined();
    expect((await request("GET", `/v1/experiments/${exp.id}`)).statusCode).toBe(404);
  });

  it("continue extends the runs of every cell and enqueues each again", async () => {
    const exp = await submit();
    await finishRuns(t.database.db, exp);
    const queue = t.app.producer.queues[TRAINING_QUEUE]!;
    for (const r of exp.runs) await (await queue.getJob(r.id))?.remove(); // as if completed and aged out

    const res = await request("POST", `/v1/experiments/${exp.id}/continue`, { epochs: 5 });
    expect(res.statusCode).toBe(202);
    const body = ZContinueResponse.parse(res.json());
    expect(body.notContinued).toEqual([]);
    expect(body.status).toBe("queued");
    expect(body.runs.map((r) => [r.cell["model.hiddenLayers"], r.status, r.progress])).toEqual(
      exp.runs.map((r) => [r.cell["model.hiddenLayers"], "queued", { epoch: 2, epochs: 5 }]),
    );
    for (const r of exp.runs) expect(await (await queue.getJob(r.id))?.getState()).toBe("waiting");
    // Every cell's summary counts its runs again as unfinished: no means until they finish.
    expect(body.summary.map((s) => [s.cell, s.runs, s.testAccuracy.mean])).toEqual([
      [CELLS[0], 2, null],
      [CELLS[0], 2, null],
      [CELLS[1], 2, null],
      [CELLS[1], 2, null],
    ]);
  });

  it("the summary, comparisons and report cover each cell, and follow the runs as they finish", async () => {
    const exp = await submit();
    // Read before anything finished, so the statistics computed now must not be served later.
    expect((await read(exp.id)).summary.every((s) => s.testAccuracy.mean === null)).toBe(true);
    // relu beats sigmoid by 10 points in the shallow cell, 30 in the deep one (runs by cell, variant, repeat).
    const accuracy = [0.9, 0.92, 0.8, 0.81, 0.88, 0.9, 0.6, 0.58];
    await finishRuns(t.database.db, exp, { accuracy: (k) => accuracy[k]! });

    const got = await read(exp.id);
    expect(got.status).toBe("succeeded");
    expect(got.summary.map((s) => [s.cell, s.variant.activation, s.runs, s.testAccuracy.mean])).toEqual([
      [CELLS[0], "relu", 2, expect.closeTo(0.91, 12)],
      [CELLS[0], "sigmoid", 2, expect.closeTo(0.805, 12)],
      [CELLS[1], "relu", 2, expect.closeTo(0.89, 12)],
      [CELLS[1], "sigmoid", 2, expect.closeTo(0.59, 12)],
    ]);
    expect(got.comparisons.map((c) => [c.cell, c.a.activation, c.b.activation, c.repeats])).toEqual([
      [CELLS[0], "relu", "sigmoid", 2],
      [CELLS[1], "relu", "sigmoid", 2],
    ]);
    expect(got.comparisons[0]!.meanDifference).toBeCloseTo(0.105, 12);
    expect(got.comparisons[1]!.meanDifference).toBeCloseTo(0.3, 12);

    const report = ZReport.parse((await request("GET", `/v1/experiments/${exp.id}/report`)).json());
    expect(report.cells.map((c) => [c.cell, c.label])).toEqual([
      [CELLS[0], "layers=1"],
      [CELLS[1], "layers=3"],
    ]);
    expect(report.variants.map((v) => [v.cell, v.label, v.runs.succeeded, v.testAccuracy.values])).toEqual([
      [CELLS[0], "relu", 2, accuracy.slice(0, 2)],
      [CELLS[0], "sigmoid", 2, accuracy.slice(2, 4)],
      [CELLS[1], "relu", 2, accuracy.slice(4, 6)],
      [CELLS[1], "sigmoid", 2, accuracy.slice(6, 8)],
    ]);
    expect(report.comparisons.map((c) => [c.cell, c.meanDifference])).toEqual(
      got.comparisons.map((c) => [c.cell, c.meanDifference]),
    );
    const markdown = await t.app.inject({
      method: "GET",
      url: `/v1/experiments/${exp.id}/report`,
      headers: { ...bearer(t.keyA), accept: "text/markdown" },
    });
    expect(markdown.statusCode).toBe(200);
    // One table row per cell × variant, each naming its cell.
    expect(markdown.body.match(/^\| layers=1 \| (relu|sigmoid) \|/gm)).toHaveLength(2);
    expect(markdown.body.match(/^\| layers=3 \| (relu|sigmoid) \|/gm)).toHaveLength(2);
  });

  it("a running run's gradient ratio in the summary follows each epoch it stores", async () => {
    const exp = await submit();
    const run = exp.runs[4]!; // cell 2, relu, repeat 0
    const epoch = await startStoringEpochs(run.id);
    const ratio = async () =>
      (await read(exp.id)).summary.find(
        (s) => s.cell["model.hiddenLayers"] === 3 && s.variant.activation === "relu",
      )!.gradNormRatio.mean;
    expect(await ratio()).toBeNull();
    await epoch(1, 0.25);
    expect(await ratio()).toBeCloseTo(0.25, 12);
    await epoch(2, 0.001);
    expect(await ratio()).toBeCloseTo(0.001, 12);
  });

  it("a change in one cell recomputes that cell: the read equals the statistics computed from scratch", async () => {
    const exp = await submit();
    const db = t.database.db;
    // Cell 1 finished with distinct accuracies; then one run of cell 2 starts and stores epochs.
    await finishRuns(db, { id: exp.id, runs: exp.runs.slice(0, 4) }, { accuracy: (k) => 0.6 + k / 20 });
    const run = exp.runs[5]!; // cell 2, relu, repeat 1
    const epoch = await startStoringEpochs(run.id);
    const fromScratch = async () => {
      const rows = (await findExperimentWithRuns(db, { id: exp.id, tenantId: t.tenantA }))!;
      const stats = computeStatistics(exp.spec, rows.runs, await findLatestGradNorms(db, exp.id));
      return { summary: stats.summary, comparisons: stats.comparisons };
    };
    const statistics = async () => {
      const got = await read(exp.id);
      return { summary: got.summary, comparisons: got.comparisons };
    };
    const before = await statistics();
    expect(before).toEqual(await fromScratch());
    await epoch(1, 0.02);
    const after = await statistics();
    expect(after).toEqual(await fromScratch());
    // Only cell 2's relu entry moved; cell 1's figures are what they were.
    expect(after.summary.filter((s) => s.cell["model.hiddenLayers"] === 1)).toEqual(
      before.summary.filter((s) => s.cell["model.hiddenLayers"] === 1),
    );
    expect(
      after.summary.find((s) => s.cell["model.hiddenLayers"] === 3 && s.variant.activation === "relu"),
    ).toMatchObject({ gradNormRatio: { mean: expect.closeTo(0.02, 12) } });
    await epoch(2, 0.5);
    expect(await statistics()).toEqual(await fromScratch());
    // The latest epochs of chosen runs only, or of every run.
    expect([...(await findLatestGradNorms(db, exp.id, [run.id])).keys()]).toEqual([run.id]);
    expect((await findLatestGradNorms(db, exp.id)).size).toBe(5);
  });
});
