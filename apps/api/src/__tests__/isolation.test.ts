import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, request, SMALL_SPEC, startTestApi, type TestApi } from "./helpers.js";

let t: TestApi;
let experimentId: string;
let runId: string;

beforeAll(async () => {
  t = await startTestApi("iso");
  const res = await request(t, "POST", "/v1/experiments", { payload: SMALL_SPEC });
  experimentId = res.json().id;
  runId = res.json().runs[0].id;
  await t.database.db.modelArtifact.create({
    data: {
      runId,
      topology: {},
      weightSpecs: [],
      weights: new Uint8Array([1, 2, 3, 4]),
      sha256: "x",
      sizeBytes: 4,
    },
  });
});
afterAll(async () => t?.close());

/** Every route that names one of tenant A's things. */
const routes = () =>
  [
    ["GET", `/v1/experiments/${experimentId}`],
    ["GET", `/v1/experiments/${experimentId}/metrics`],
    ["GET", `/v1/experiments/${experimentId}/events`],
    ["GET", `/v1/experiments/${experimentId}/report`],
    ["GET", `/v1/experiments/${experimentId}/report?format=markdown`],
    ["POST", `/v1/experiments/${experimentId}/cancel`],
    ["DELETE", `/v1/experiments/${experimentId}`],
    ["GET", `/v1/runs/${runId}`],
    ["GET", `/v1/runs/${runId}/model/model.json`],
    ["GET", `/v1/runs/${runId}/model/weights.bin`],
    ["POST", `/v1/runs/${runId}/predict`],
  ] as const;

describe("tenant isolation", () => {
  it("another tenant gets the same 404 as for a thing that does not exist, on every route", async () => {
    for (const [method, url] of routes()) {
      const payload = url.endsWith("predict") ? { inputs: [Array(784).fill(0)] } : undefined;
      const theirs = await t.app.inject({
        method,
        url,
        headers: bearer(t.keyB),
        ...(payload ? { payload } : {}),
      });
      const missingUrl = url
        .replace(experimentId, "11111111-1111-4111-8111-111111111111")
        .replace(runId, "22222222-2222-4222-8222-222222222222");
      const missing = await t.app.inject({
        method,
        url: missingUrl,
        headers: bearer(t.keyB),
        ...(payload ? { payload } : {}),
      });
      expect([method, url, theirs.statusCode]).toEqual([method, url, 404]);
      expect(missing.statusCode).toBe(404);
      const strip = (body: Record<string, unknown>) => ({ ...body, detail: undefined, instance: undefined });
      expect(strip(theirs.json())).toEqual(strip(missing.json()));
    }
    const list = await t.app.inject({ method: "GET", url: "/v1/experiments", headers: bearer(t.keyB) });
    expect(list.json().items).toEqual([]);
    // Nothing of A's was touched by B's attempts.
    const still = await request(t, "GET", `/v1/experiments/${experimentId}`);
    expect(still.statusCode).toBe(200);
    expect(still.json().runs.every((r: { status: string }) => r.status === "queued")).toBe(true);
  });

  it("the owner reaches every one of those routes", async () => {
    for (const [method, url] of routes()) {
      if (method === "DELETE" || url.endsWith("/events") || url.endsWith("predict")) continue;
      const res = await t.app.inject({ method, url, headers: bearer(t.keyA) });
      expect([url, res.statusCode]).toEqual([url, method === "POST" ? 202 : 200]);
    }
  });
});
