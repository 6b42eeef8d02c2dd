import type { AddressInfo } from "node:net";
import { ZModelJson, ZPrediction, ZRun } from "@actlab/contracts";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { smallRequest } from "../../../../../tests/support/index.js";
import { bearer, request, startTestApi, type TestApi } from "../../__tests__/helpers.js";
import { storeTrainedModel } from "../../__tests__/trained-model.js";

let t: TestApi;
let experimentId: string;
let runIds: string[];
const images: number[][] = [];

const SPEC = smallRequest("tiny", {
  samples: 100,
  net: [1, 8],
  activations: ["rrelu", "prelu"],
  batchSize: 40,
});

beforeAll(async () => {
  t = await startTestApi("runs", { MODEL_CACHE_SIZE: "1" });
  const res = await request(t, "POST", "/v1/experiments", { payload: SPEC });
  experimentId = res.json().id;
  runIds = res.json().runs.map((r: { id: string }) => r.id);
  await storeTrainedModel(t.database.db, { runId: runIds[0]!, spec: SPEC, variantIndex: 0, seed: 7 });
  await storeTrainedModel(t.database.db, { runId: runIds[1]!, spec: SPEC, variantIndex: 1, seed: 7 });
  for (let i = 0; i < 3; i++)
    images.push(Array.from({ length: 784 }, (_, j) => ((i * 31 + j * 7) % 97) / 96));
}, 120_000);
afterAll(async () => t?.close());

const predict = (runId: string, body: unknown, key = t.keyA) =>
  t.app.inject({
    method: "POST",
    url: `/v1/runs/${runId}/predict`,
    headers: bearer(key),
    payload: body as object,
  });

describe("GET /v1/runs/:id", () => {
  it("shows the run to its tenant only", async () => {
    const res = await t.app.inject({ method: "GET", url: `/v1/runs/${runIds[0]}`, headers: bearer(t.keyA) });
    expect(res.statusCode).toBe(200);
    const run = ZRun.parse(res.json());
    expect(run).toMatchObject({
      id: runIds[0],
      experimentId,
      status: "succeeded",
      variant: { activation: "rrelu" },
    });
    expect(run.progress).toEqual({ epoch: 1, epochs: 1 });
    for (const [url, key] of [
      [`/v1/runs/${runIds[0]}`, t.keyB],
      ["/v1/runs/x", t.keyA],
    ] as const) {
      const res404 = await t.app.inject({ method: "GET", url, headers: bearer(key) });
      expect(res404.statusCode).toBe(404);
    }
  });
});

describe("model.json and weights", () => {
  it("tf.loadLayersModel loads the trained model straight from the API (auth via header)", async () => {
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = t.app.server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}/v1/runs/${runIds[0]}/model/model.json`;
    const model = await tf.loadLayersModel(url, {
      requestInit: { headers: bearer(t.keyA) },
      fetchFunc: globalThis.fetch,
    });
    const local = (model.predict(tf.tensor2d(images)) as tf.Tensor2D).arraySync();
    model.dispose();
    const api = await predict(runIds[0]!, { inputs: images });
    expect(api.statusCode).toBe(200);
    const body = ZPrediction.parse(api.json());
    expect(body.runId).toBe(runIds[0]);
    expect(body.probabilities).toHaveLength(3);
    body.probabilities.forEach((row, i) => {
      expect(row).toHaveLength(10);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      row.forEach((p, j) => {
        expect(p).toBeCloseTo(local[i]![j]!, 5);
      });
      expect(body.classes[i]).toBe(row.indexOf(Math.max(...row)));
    });
  });

  it("names its weights file, serves it with the model's hash, and hides both from other tenants", async () => {
    const json = await request(t, "GET", `/v1/runs/${runIds[0]}/model/model.json`);
    expect(json.statusCode).toBe(200);
    const modelJson = ZModelJson.parse(json.json());
    expect(modelJson.format).toBe("layers-model");
    expect(modelJson.weightsManifest[0]?.paths).toEqual(["weights.bin"]);
    const stored = await t.database.db.modelArtifact.findUnique({ where: { runId: runIds[0]! } });
    const bin = await request(t, "GET", `/v1/runs/${runIds[0]}/model/weights.bin`);
    expect(bin.statusCode).toBe(200);
    expect(bin.headers["content-type"]).toBe("application/octet-stream");
    expect(bin.headers.etag).toBe(`"${stored!.sha256}"`);
    expect(Buffer.compare(bin.rawPayload, Buffer.from(stored!.weights))).toBe(0);
    for (const path of ["model.json", "weights.bin"]) {
      const other = await request(t, "GET", `/v1/runs/${runIds[0]}/model/${path}`, { key: t.keyB });
      expect(other.statusCode).toBe(404);
    }
  });

  it("answers 404 for a run without a model", async () => {
    const exp = await request(t, "POST", "/v1/experiments", { payload: SPEC });
    const runId = exp.json().runs[0].id;
    const res = await request(t, "GET", `/v1/runs/${runId}/model/model.json`);
    expect(res.statusCode).toBe(404);
    const p = await predict(runId, { inputs: [images[0]] });
    expect(p.statusCode).toBe(409);
    expect(p.json().detail).toMatch(/no trained model/);
  });
});

describe("POST /v1/runs/:id/predict", () => {
  it("accepts 28×28 inputs and raw 0–255 pixels", async () => {
    const flat = await predict(runIds[0]!, { inputs: [images[1]] });
    const grid = Array.from({ length: 28 }, (_, r) => images[1]!.slice(r * 28, r * 28 + 28));
    const square = await predict(runIds[0]!, { inputs: [grid] });
    expect(square.json().probabilities).toEqual(flat.json().probabilities);
    const raw = await predict(runIds[0]!, { inputs: [images[1]!.map((v) => v * 255)], pixelScale: "raw" });
    raw.json().probabilities[0].forEach((p: number, j: number) => {
      expect(p).toBeCloseTo(flat.json().probabilities[0][j], 5);
    });
  });

  it("rejects NaN, Infinity, wrong shapes and too many inputs with 400 problems", async () => {
    const nan = await request(t, "POST", `/v1/runs/${runIds[0]}/predict`, {
      payload: `{"inputs":[[${Array(783).fill(0).join(",")},NaN]]}`,
      headers: { "content-type": "application/json" },
    });
    expect(nan.statusCode).toBe(400);
    expect(nan.json().type).toBe("/problems/malformed-json");
    const inf = await request(t, "POST", `/v1/runs/${runIds[0]}/predict`, {
      payload: `{"inputs":[[${Array(783).fill(0).join(",")},1e999]]}`,
      headers: { "content-type": "application/json" },
    });
    expect(inf.statusCode).toBe(400);
    expect(inf.json().type).toBe("/problems/validation");
    const short = await predict(runIds[0]!, { inputs: [[1, 2, 3]] });
    expect(short.statusCode).toBe(400);
    expect(short.json().errors[0].path).toMatch(/^inputs\.0/);
    const many = await predict(runIds[0]!, { inputs: Array(257).fill(images[0]) }); // ~4 MB: under the route's limit
    expect(many.statusCode).toBe(400);
    expect(many.json().errors[0].path).toBe("inputs");
    const none = await predict(runIds[0]!, { inputs: [] });
    expect(none.statusCode).toBe(400);
    const other = await predict(runIds[0]!, { inputs: [images[0]] }, t.keyB);
    expect(other.statusCode).toBe(404);
  });

  it("keeps at most MODEL_CACHE_SIZE models loaded", async () => {
    const a = await predict(runIds[0]!, { inputs: [images[0]] });
    const b = await predict(runIds[1]!, { inputs: [images[0]] });
    expect(a.statusCode).toBe(200);
    expect(b.statusCode).toBe(200);
    expect(t.app.models.size).toBe(1);
    const again = await predict(runIds[0]!, { inputs: [images[0]] });
    expect(again.json().probabilities).toEqual(a.json().probabilities);
  });
});
