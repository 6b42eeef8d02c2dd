import { ACTIVATION_NAMES, PRESETS, ZActivationCatalog, ZDatasetList, ZPresetList } from "@actlab/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, request, startTestApi, type TestApi } from "../../__tests__/helpers.js";

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi("catalog");
});
afterAll(async () => t?.close());

describe("catalog", () => {
  it("GET /v1/activations lists every activation with formulas, parameters and sampled f, f′", async () => {
    const res = await t.app.inject({ method: "GET", url: "/v1/activations", headers: bearer(t.keyA) });
    expect(res.statusCode).toBe(200);
    const { activations } = ZActivationCatalog.parse(res.json());
    expect(activations.map((a) => a.name)).toEqual([...ACTIVATION_NAMES]);
    const sigmoid = activations.find((a) => a.name === "sigmoid")!;
    expect(sigmoid.formulaLatex).toContain("\\sigma");
    expect(sigmoid.samples.x).toHaveLength(241);
    expect(sigmoid.samples.x[0]).toBe(-6);
    expect(sigmoid.samples.x[240]).toBe(6);
    expect(sigmoid.samples.f[120]).toBeCloseTo(0.5, 10);
    expect(sigmoid.samples.df[120]).toBeCloseTo(0.25, 10); // the most a sigmoid ever passes back
    const leaky = activations.find((a) => a.name === "leaky_relu")!;
    expect(leaky.params).toEqual([expect.objectContaining({ name: "alpha", default: 0.01 })]);
  });

  it("resamples one activation with given parameters and range", async () => {
    const res = await request(t, "GET", "/v1/activations?activation=elu&alpha=0.5&from=-2&to=2&points=5");
    expect(res.statusCode).toBe(200);
    const [elu] = ZActivationCatalog.parse(res.json()).activations;
    expect(elu!.samples.x).toEqual([-2, -1, 0, 1, 2]);
    expect(elu!.samples.f[0]).toBeCloseTo(0.5 * (Math.exp(-2) - 1), 10);
    const bad = await request(t, "GET", "/v1/activations?activation=elu&alpha=99");
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe("alpha");
    const inverted = await request(t, "GET", "/v1/activations?from=3&to=1");
    expect(inverted.statusCode).toBe(400);
  });

  it("GET /v1/datasets says which datasets this install has and their sizes", async () => {
    const res = await t.app.inject({ method: "GET", url: "/v1/datasets", headers: bearer(t.keyA) });
    expect(res.statusCode).toBe(200);
    const { datasets } = ZDatasetList.parse(res.json());
    expect(datasets.map((d) => d.name)).toEqual(["mnist", "fashion-mnist", "mnist-full"]);
    const mnist = datasets[0];
    expect(mnist).toMatchObject({ available: true, samples: 10_000, maxSamples: 10_000 });
    const full = datasets[2]!;
    expect(full.available).toBe(false);
    expect(full.detail).toMatch(/director/); // says where the files must go
  });

  it("GET /v1/presets includes the chapter's experiments", async () => {
    const res = await t.app.inject({ method: "GET", url: "/v1/presets", headers: bearer(t.keyA) });
    expect(res.statusCode).toBe(200);
    const { presets } = ZPresetList.parse(res.json());
    expect(presets.map((p) => p.id)).toEqual(PRESETS.map((p) => p.id));
    expect(presets[0]?.spec.variants).toHaveLength(7);
  });

  it("needs a key", async () => {
    for (const url of ["/v1/activations", "/v1/datasets", "/v1/presets"]) {
      expect((await t.app.inject({ method: "GET", url })).statusCode).toBe(401);
    }
  });
});
