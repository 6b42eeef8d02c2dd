import {
  metricsCsvColumns,
  ZCompareResponse,
  ZContinueResponse,
  ZExperiment,
  ZProblem,
} from "@actlab/contracts";
import { failRun, refreshExperimentStatus } from "@actlab/db";
import { TRAINING_QUEUE } from "@actlab/queue";
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { bearer, testApiForFile } from "../../__tests__/helpers.js";
import { finishRuns as finish } from "../../__tests__/lifecycle.js";

const t = testApiForFile("results");

const BASE = {
  dataset: { samples: 200 },
  model: { hiddenLayers: 2, units: 8 },
  training: { epochs: 2, repeats: 2, batchSize: 50 },
};

async function submit(body: object, key = t.keyA) {
  const res = await t.app.inject({
    method: "POST",
    url: "/v1/experiments",
    headers: bearer(key),
    payload: body,
  });
  expect(res.statusCode).toBe(202);
  return ZExperiment.parse(res.json());
}

/** The lifecycle of a worker on this file's database (__tests__/lifecycle.ts). */
const finishRuns = (exp: { id: string; runs: Array<{ id: string }> }, epochs = 2) =>
  finish(t.database.db, exp, { epochs });

const get = (url: string, key = t.keyA) => t.app.inject({ method: "GET", url, headers: bearer(key) });
const post = (url: string, payload: unknown, key = t.keyA) =>
  t.app.inject({ method: "POST", url, headers: bearer(key), payload: payload as object });

describe("GET /v1/compare", () => {
  it("lists only the differing spec fields and lines up variants by label, null where one is missing", async () => {
    const a = await submit({
      ...BASE,
      name: "a",
      variants: [{ activation: "relu" }, { activation: "sigmoid" }],
    });
    const b = await submit({
      ...BASE,
      name: "b",
      variants: [{ activation: "sigmoid" }, { activation: "leaky_relu", alpha: 0.01 }],
      training: { ...BASE.training, optimizer: { name: "sgd", learningRate: 0.1 } },
    });
    await finishRuns(a);
    const res = await get(`/v1/compare?experiments=${a.id},${b.id}`);
    expect(res.statusCode).toBe(200);
    const body = ZCompareResponse.parse(res.json());
    expect(body.experiments.map((e) => [e.id, e.name, e.runs, e.finished])).toEqual([
      [a.id, "a", 4, 4],
      [b.id, "b", 4, 0],
    ]);
    expect(body.differences).toEqual([
      {
        path: "variants",
        values: [
          ["relu", "sigmoid"],
          ["sigmoid", "leaky_relu(alpha=0.01)"],
        ],
      },
      { path: "training.optimizer.learningRate", values: [0.01, 0.1] },
    ]);
    expect(body.rows.map((r) => [r.label, r.summaries.map((s) => s?.runs ?? null)])).toEqual([
      ["relu", [2, null]],
      ["sigmoid", [2, 2]],
      ["leaky_relu(alpha=0.01)", [null, 2]],
    ]);
    expect(body.rows[1]!.cell).toEqual({});
    expect(body.rows[1]!.summaries[0]!.testAccuracy.mean).toBeCloseTo(0.9);
    expect(body.rows[1]!.summaries[1]!.testAccuracy.mean).toBeNull();
  });

  it("answers 400 for fewer than two experiments and 404 for one that is not the tenant's", async () => {
    const a = await submit({ ...BASE, name: "mine", variants: [{ activation: "relu" }] });
    const other = await submit({ ...BASE, name: "theirs", variants: [{ activation: "relu" }] }, t.keyB);
    const one = await get(`/v1/compare?experiments=${a.id},${a.id}`);
    expect(one.statusCode).toBe(400);
    expect(ZProblem.parse(one.json()).errors?.[0]?.path).toContain("experiments");
    for (const id of [other.id, "not-a-uuid"]) {
      const res = await get(`/v1/compare?experiments=${a.id},${id}`);
      expect(res.statusCode).toBe(404);
      expect(res.json().detail).toContain(id);
    }
  });
});

describe("GET /v1/experiments/:id/metrics.csv", () => {
  it("streams one RFC 4180 row per run × epoch in the documented column order", async () => {
    const exp = await submit({
      ...BASE,
      name: 'csv, "quoted"',
      variants: [
        { activation: "rrelu", lower: 0.125, upper: 0.25 },
        { activation: "leaky_relu", alpha: 0.2 },
      ],
    });
    await finishRuns(exp);
    const res = await get(`/v1/experiments/${exp.id}/metrics.csv`);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/csv/);
    expect(res.headers["content-disposition"]).toBe('attachment; filename="csv-quoted-metrics.csv"');
    expect(res.headers["content-length"]).toBeUndefined(); // streamed, not buffered
    expect(res.body).toMatch(/\r\n/);
    const rows: string[][] = parse(res.body);
    const header = rows[0]!;
    expect(header).toEqual(
      metricsCsvColumns({ params: ["alpha", "lower", "upper"], cellPaths: [], hiddenLayers: 2 }),
    );
    expect(header.slice(0, 8)).toEqual([
      "experimentId",
      "runId",
      "variant",
      "activation",
      "alpha",
      "lower",
      "upper",
      "repeat",
    ]);
    expect(header.filter((c) => c.startsWith("gradNorm_"))).toEqual([
      "gradNorm_1",
      "gradNorm_2",
      "gradNorm_3",
    ]);
    const records: Array<Record<string, string>> = parse(res.body, { columns: true });
    expect(records).toHaveLength(4 * 2);
    expect(records.map((r) => [r.runId, r.epoch])).toEqual(
      exp.runs.flatMap((r) => [
        [r.id, "1"],
        [r.id, "2"],
      ]),
    );
    const first = records[0]!;
    expect(first).toMatchObject({
      experimentId: exp.id,
      variant: "rrelu(lower=0.125, upper=0.25)",
      activation: "rrelu",
      alpha: "",
      lower: "0.125",
      upper: "0.25",
      repeat: "0",
      status: "succeeded",
      trainLoss: "1",
      gradNorm_1: "0.001",
      gradNorm_3: "0.1",
      deadFraction_2: "0.5",
      saturatedFraction_1: "0.25",
      preluAlphaMean_1: "",
    });
    expect(records[7]).toMatchObject({
      activation: "leaky_relu",
      alpha: "0.2",
      lower: "",
      repeat: "1",
      epoch: "2",
    });
    expect(Number(records[7]!.trainLoss)).toBeCloseTo(0.5 + 3);
  });

  it("has one cell.<path> column per swept path, after the parameters, filled per run; layers for the deepest cell", async () => {
    const exp = await submit({
      ...BASE,
      name: "csv sweep",
      training: { ...BASE.training, repeats: 1 },
      variants: [{ activation: "leaky_relu", alpha: 0.1 }],
      // Given in the opposite of SWEEP_PATHS order: the columns still follow SWEEP_PATHS.
      sweep: { "model.initializer": [{ name: "he_normal" }], "model.hiddenLayers": [1, 3] },
    });
    await finishRuns(exp, 1);
    const res = await get(`/v1/experiments/${exp.id}/metrics.csv`);
    expect(res.statusCode).toBe(200);
    const header: string[] = parse(res.body)[0] ?? [];
    expect(header.slice(4, 8)).toEqual([
      "alpha",
      "cell.model.hiddenLayers",
      "cell.model.initializer",
      "repeat",
    ]);
    expect(header.filter((c) => c.startsWith("gradNorm_"))).toEqual([
      "gradNorm_1",
      "gradNorm_2",
      "gradNorm_3",
      "gradNorm_4",
    ]);
    const records: Array<Record<string, string>> = parse(res.body, { columns: true });
    expect(records.map((r) => [r.runId, r["cell.model.hiddenLayers"], r["cell.model.initializer"]])).toEqual(
      exp.runs.map((r) => [r.id, String(r.cell["model.hiddenLayers"]), '{"name":"he_normal"}']),
    );
    expect(records.map((r) => r["cell.model.hiddenLayers"])).toEqual(["1", "3"]);
  });

  it("is a header alone before any epoch, and 404 for another tenant", async () => {
    const exp = await submit({ ...BASE, name: "empty", variants: [{ activation: "relu" }] });
    const res = await get(`/v1/experiments/${exp.id}/metrics.csv`);
    expect(res.statusCode).toBe(200);
    expect(res.body.split("\r\n")).toEqual([
      expect.stringMatching(/^experimentId,runId,variant,activation,repeat,/),
      "",
    ]);
    expect((await get(`/v1/experiments/${exp.id}/metrics.csv`, t.keyB)).statusCode).toBe(404);
  });
});

describe("POST /v1/experiments/:id/continue", () => {
  it("queues the finished runs again with the new total, enqueued; the same call again changes nothing", async () => {
    const exp = await submit({ ...BASE, name: "continue me", variants: [{ activation: "relu" }] });
    await finishRuns(exp);
    const queue = t.app.producer.queues[TRAINING_QUEUE]!;
    for (const r of exp.runs) await (await queue.getJob(r.id))?.remove(); // as if the jobs had completed and aged out

    const res = await post(`/v1/experiments/${exp.id}/continue`, { epochs: 5 });
    expect(res.statusCode).toBe(202);
    const body = ZContinueResponse.parse(res.json());
    expect(body.notContinued).toEqual([]);
    expect(body.status).toBe("queued");
    expect(body.spec.training.epochs).toBe(5);
    expect(body.finishedAt).toBeNull();
    expect(body.links).toMatchObject({
      metricsCsv: `/v1/experiments/${exp.id}/metrics.csv`,
      continue: `/v1/experiments/${exp.id}/continue`,
    });
    expect(body.runs.map((r) => [r.status, r.progress, r.testAccuracy])).toEqual([
      ["queued", { epoch: 2, epochs: 5 }, null],
      ["queued", { epoch: 2, epochs: 5 }, null],
    ]);
    for (const r of exp.runs) expect(await (await queue.getJob(r.id))?.getState()).toBe("waiting");

    const again = await post(`/v1/experiments/${exp.id}/continue`, { epochs: 5 });
    expect(again.statusCode).toBe(202);
    expect(ZContinueResponse.parse(again.json()).runs.map((r) => r.progress.epochs)).toEqual([5, 5]);
    const runs = await t.database.db.run.findMany({ where: { experimentId: exp.id } });
    expect(runs.map((r) => r.attempts)).toEqual([1, 1]);

    // While its runs are queued it cannot be continued further.
    const busy = await post(`/v1/experiments/${exp.id}/continue`, { epochs: 6 });
    expect(busy.statusCode).toBe(409);
    expect(busy.json().detail).toMatch(/2 run\(s\) are still queued or running/);
  });

  it("continues a partial experiment's succeeded runs and says why each other run stays as it was", async () => {
    const exp = await submit({
      ...BASE,
      name: "partial",
      variants: [{ activation: "relu" }, { activation: "sigmoid" }],
    });
    const [ok0, failed, canceled, ok3] = exp.runs;
    const db = t.database.db;
    await failRun(db, { runId: failed!.id, error: "boom" });
    await db.run.update({ where: { id: canceled!.id }, data: { status: "canceled" } });
    await finishRuns({ id: exp.id, runs: [ok0!, ok3!] });
    expect(ZExperiment.parse((await get(`/v1/experiments/${exp.id}`)).json()).status).toBe("partial");

    const res = await post(`/v1/experiments/${exp.id}/continue`, { epochs: 4 });
    expect(res.statusCode, res.body).toBe(202);
    const body = ZContinueResponse.parse(res.json());
    const notContinued = [
      { runId: failed!.id, reason: "the run failed; only succeeded runs can continue" },
      { runId: canceled!.id, reason: "the run canceled; only succeeded runs can continue" },
    ];
    expect(body.notContinued).toEqual(notContinued);
    expect(body.spec.training.epochs).toBe(4);
    expect(body.status).toBe("running"); // queued runs beside finished ones, as the runs derive it
    expect(body.runs.map((r) => [r.status, r.progress.epochs])).toEqual([
      ["queued", 4],
      ["failed", 2],
      ["canceled", 2],
      ["queued", 4],
    ]);
    const queue = t.app.producer.queues[TRAINING_QUEUE]!;
    for (const r of [ok0!, ok3!]) expect(await (await queue.getJob(r.id))?.getState()).toBe("waiting");

    // The same total again changes nothing and still says which runs were left behind.
    const again = await post(`/v1/experiments/${exp.id}/continue`, { epochs: 4 });
    expect(again.statusCode).toBe(202);
    expect(ZContinueResponse.parse(again.json()).notContinued).toEqual(notContinued);
  });

  it("refuses fewer epochs, bad bodies and an experiment none of whose runs can continue, naming each, changing nothing", async () => {
    const exp = await submit({ ...BASE, name: "cannot", variants: [{ activation: "relu" }] });
    const db = t.database.db;
    await failRun(db, { runId: exp.runs[1]!.id, error: "boom" });
    await db.run.update({ where: { id: exp.runs[0]!.id }, data: { status: "canceled" } });
    await refreshExperimentStatus(db, exp.id);

    const refused = await post(`/v1/experiments/${exp.id}/continue`, { epochs: 4 });
    expect(refused.statusCode).toBe(409);
    const problem = ZProblem.parse(refused.json());
    expect(problem.detail).toBe("none of the 2 run(s) can continue; nothing was changed");
    expect(problem.errors).toEqual([
      { path: `runs.${exp.runs[0]!.id}`, message: "the run canceled; only succeeded runs can continue" },
      { path: `runs.${exp.runs[1]!.id}`, message: "the run failed; only succeeded runs can continue" },
    ]);
    const shorter = await post(`/v1/experiments/${exp.id}/continue`, { epochs: 1 });
    expect(shorter.statusCode).toBe(409);
    expect(shorter.json().errors).toEqual([{ path: "epochs", message: "must be more than 2" }]);
    for (const body of [{ epochs: 0 }, { epochs: 1001 }, { epochs: "5" }, {}, { epochs: 5, extra: 1 }]) {
      const bad = await post(`/v1/experiments/${exp.id}/continue`, body);
      expect(bad.statusCode, JSON.stringify(body)).toBe(400);
    }
    const after = ZExperiment.parse((await get(`/v1/experiments/${exp.id}`)).json());
    expect(after.spec.training.epochs).toBe(2);
    expect(after.status).toBe("failed");
    expect(after.runs.map((r) => r.status)).toEqual(["canceled", "failed"]);
    expect((await post(`/v1/experiments/${exp.id}/continue`, { epochs: 4 }, t.keyB)).statusCode).toBe(404);
  });
});
