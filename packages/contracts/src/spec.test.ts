import { describe, expect, it } from "vitest";
import { resolveVariant, variantLabel, ZVariant } from "./activations.js";
import { LIMITS } from "./limits.js";
import { PRESETS } from "./presets.js";
import { resolveExperimentRequest } from "./request.js";
import { deriveRunSeed, ZExperimentSpec } from "./spec.js";
import { deriveExperimentStatus } from "./status.js";
import { applyCell, cellKey, cellLabel, sweepCells } from "./sweep.js";

describe("experiment spec", () => {
  it("fills every default around the variants", () => {
    const spec = ZExperimentSpec.parse({ variants: [{ activation: "leaky_relu" }, { activation: "rrelu" }] });
    expect(spec.dataset).toEqual({
      name: "mnist",
      samples: 10_000,
      testFraction: 0.2,
      pixelScale: "unit",
      seed: 1,
    });
    expect(spec.model).toEqual({ hiddenLayers: 4, units: 200, initializer: { name: "glorot_uniform" } });
    expect(spec.training).toMatchObject({
      optimizer: { name: "sgd", learningRate: 0.01 },
      epochs: 30,
      batchSize: 100,
      seed: 1,
      repeats: 3,
    });
    expect(spec.device).toBe("cpu");
    expect(spec.variants).toEqual([
      { activation: "leaky_relu", alpha: 0.01 },
      { activation: "rrelu", lower: 0.125, upper: 0.333 },
    ]);
  });

  it("names each bad field with a dotted path", () => {
    const r = resolveExperimentRequest({
      variants: [{ activation: "relu" }, { activation: "elu", alpha: -1 }],
      training: { epochs: LIMITS.maxEpochs + 1 },
      model: { units: 0, initializer: { name: "truncated_normal", stddev: 0 } },
    });
    expect(r.ok).toBe(false);
    const paths = r.ok ? [] : r.issues.map((i) => i.path).sort();
    expect(paths).toEqual(["model.initializer.stddev", "model.units", "training.epochs", "variants.1.alpha"]);
  });

  it("rejects unknown fields and activations instead of ignoring them", () => {
    const r = resolveExperimentRequest({ variants: [{ activation: "swishy" }], extra: true });
    expect(r.ok ? [] : r.issues.map((i) => i.path).sort()).toEqual(["(body)", "variants.0.activation"]);
  });

  it("limits cells × variants × repeats, saying how many runs the request makes", () => {
    const variants = Array.from({ length: 10 }, () => ({ activation: "relu" as const }));
    const r = resolveExperimentRequest({
      variants,
      training: { repeats: 10 },
      sweep: { "model.hiddenLayers": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "model.units": [10, 20, 30] },
    });
    expect(r.ok).toBe(false);
    expect(r.ok ? null : r.issues[0]).toMatchObject({ path: "sweep" });
    expect(r.ok ? "" : r.issues[0]!.message).toContain(
      `this request makes 3000 runs (30 cells × 10 variants × 10 repeats); at most ${LIMITS.maxRunsPerExperiment}`,
    );
    expect(LIMITS.maxRunsPerExperiment).toBeGreaterThanOrEqual(2000);
  });

  it("rejects an rrelu range that is upside down", () => {
    expect(ZVariant.safeParse({ activation: "rrelu", lower: 0.5, upper: 0.1 }).success).toBe(false);
  });

  it("expands a preset and applies overrides deeply", () => {
    const r = resolveExperimentRequest({ preset: "chapter8-tf", training: { epochs: 2 } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.spec.training).toMatchObject({ epochs: 2, batchSize: 200, repeats: 3 });
    expect(r.spec.model.initializer).toEqual({ name: "truncated_normal", stddev: 0.01 });
    expect(r.spec.variants.map((v) => v.activation)).toEqual([
      "sigmoid",
      "tanh",
      "relu",
      "leaky_relu",
      "prelu",
      "rrelu",
      "elu",
    ]);
  });

  it("chapter presets follow the chapter's two codes and can be shortened", () => {
    const keras = resolveExperimentRequest({ preset: "chapter8-keras", training: { epochs: 30 } });
    const tf = resolveExperimentRequest({ preset: "chapter8-tf" });
    expect(keras.ok && tf.ok).toBe(true);
    if (!keras.ok || !tf.ok) return;
    expect(keras.spec.training).toMatchObject({ epochs: 30, batchSize: 100, repeats: 3 });
    expect(keras.spec.model.initializer).toEqual({ name: "glorot_uniform" });
    expect(keras.spec.dataset.pixelScale).toBe("unit");
    expect(tf.spec.training).toMatchObject({ epochs: 50, batchSize: 200 });
    expect(tf.spec.dataset.pixelScale).toBe("raw");
    for (const s of [keras.spec, tf.spec]) {
      expect(s.dataset).toMatchObject({ samples: 10_000, testFraction: 0.2 });
      expect(s.model).toMatchObject({ hiddenLayers: 4, units: 200 });
      expect(s.training.optimizer).toMatchObject({ name: "sgd", learningRate: 0.01 });
    }
    expect(PRESETS.find((p) => p.id === "chapter8-keras-short")?.spec.training).toMatchObject({
      epochs: 20,
      batchSize: 200,
    });
  });

  it("names an unknown preset", () => {
    expect(resolveExperimentRequest({ preset: "nope" })).toEqual({
      ok: false,
      issues: [{ path: "preset", message: 'unknown preset "nope"' }],
    });
  });

  it("every preset is a valid spec", () => {
    for (const p of PRESETS) expect(ZExperimentSpec.safeParse(p.spec).success, p.id).toBe(true);
  });
});

describe("stored optimizer settings", () => {
  it("keep a momentum only for SGD with momentum (0.9 unless given)", () => {
    const spec = (optimizer: object) => {
      const r = resolveExperimentRequest({ variants: [{ activation: "relu" }], training: { optimizer } });
      if (!r.ok) throw new Error(JSON.stringify(r.issues));
      return r.spec.training.optimizer;
    };
    expect(spec({})).toStrictEqual({ name: "sgd", learningRate: 0.01 });
    expect(spec({ name: "adam", momentum: 0.5 })).toStrictEqual({ name: "adam", learningRate: 0.01 });
    expect(spec({ name: "momentum" })).toStrictEqual({ name: "momentum", learningRate: 0.01, momentum: 0.9 });
    expect(spec({ name: "momentum", momentum: 0.5 })).toMatchObject({ momentum: 0.5 });
    // What is stored parses back unchanged for the worker (an old spec with a momentum still does).
    expect(
      ZExperimentSpec.safeParse({
        variants: [{ activation: "relu" }],
        training: { optimizer: { name: "sgd", momentum: 0.9 } },
      }).success,
    ).toBe(true);
  });
});

describe("run seeds", () => {
  it("are shared by variants of one repeat and differ between repeats", () => {
    expect(deriveRunSeed(1, 0)).toBe(deriveRunSeed(1, 0));
    const seeds = new Set([0, 1, 2, 3].map((r) => deriveRunSeed(1, r)));
    expect(seeds.size).toBe(4);
    expect(deriveRunSeed(2, 0)).not.toBe(deriveRunSeed(1, 0));
    for (const s of seeds) expect(s).toBeGreaterThanOrEqual(0);
  });
});

describe("experiment status from runs", () => {
  it.each([
    [["queued", "queued"], "queued"],
    [["running", "queued"], "running"],
    [["succeeded", "queued"], "running"],
    [["succeeded", "succeeded"], "succeeded"],
    [["failed", "failed"], "failed"],
    [["canceled", "canceled"], "canceled"],
    [["succeeded", "failed"], "partial"],
    [["succeeded", "canceled"], "partial"],
    [["failed", "canceled"], "failed"],
  ] as const)("%j → %s", (runs, expected) => {
    expect(deriveExperimentStatus(runs)).toBe(expected);
  });
});

describe("resolveVariant", () => {
  it("names an unknown activation, an out-of-range parameter and an unknown one", () => {
    const paths = (v: unknown) => {
      const r = resolveVariant(v);
      return r.ok ? [] : r.issues;
    };
    expect(paths({ activation: "nope" })).toMatchObject([{ path: "activation" }]);
    expect(paths({ activation: "leaky_relu", alpha: 5 })).toMatchObject([{ path: "alpha" }]);
    expect(paths({ activation: "relu", beta: 1 })).toMatchObject([
      { message: expect.stringContaining("beta") },
    ]);
    expect(resolveVariant({ activation: "elu" })).toEqual({
      ok: true,
      variant: { activation: "elu", alpha: 1 },
    });
  });
});

describe("variant labels", () => {
  it("show parameters", () => {
    expect(variantLabel({ activation: "relu" })).toBe("relu");
    expect(variantLabel({ activation: "leaky_relu", alpha: 0.01 })).toBe("leaky_relu(alpha=0.01)");
  });
});

describe("sweeps", () => {
  const base = { variants: [{ activation: "sigmoid" as const }] };

  it("expands the cartesian product of the axes in SWEEP_PATHS order, last axis fastest", () => {
    const spec = ZExperimentSpec.parse({
      ...base,
      sweep: { "training.optimizer.learningRate": [0.01, 0.1], "model.hiddenLayers": [1, 4] },
    });
    expect(sweepCells(spec)).toEqual([
      { "model.hiddenLayers": 1, "training.optimizer.learningRate": 0.01 },
      { "model.hiddenLayers": 1, "training.optimizer.learningRate": 0.1 },
      { "model.hiddenLayers": 4, "training.optimizer.learningRate": 0.01 },
      { "model.hiddenLayers": 4, "training.optimizer.learningRate": 0.1 },
    ]);
    expect(sweepCells(ZExperimentSpec.parse(base))).toEqual([{}]);
  });

  it("writes a cell's values into its paths and leaves the rest of the spec alone", () => {
    const spec = ZExperimentSpec.parse({
      ...base,
      sweep: {
        "model.initializer": [{ name: "truncated_normal" }],
        "training.optimizer.learningRate": [0.5],
      },
    });
    const [cell] = sweepCells(spec);
    expect(cell).toEqual({
      "model.initializer": { name: "truncated_normal", stddev: 0.01 },
      "training.optimizer.learningRate": 0.5,
    });
    const applied = applyCell(spec, cell!);
    expect(applied.model).toEqual({
      hiddenLayers: 4,
      units: 200,
      initializer: { name: "truncated_normal", stddev: 0.01 },
    });
    expect(applied.training.optimizer).toEqual({ name: "sgd", learningRate: 0.5 });
    expect(applied.sweep).toEqual({});
    expect(spec.training.optimizer.learningRate).toBe(0.01);
    expect(cellLabel(cell!)).toBe("init=truncated_normal(stddev=0.01), lr=0.5");
    expect(cellKey({ b: 1, a: { y: 2, x: 1 } })).toBe(cellKey({ a: { x: 1, y: 2 }, b: 1 }));
  });

  it("checks each swept value as the field it replaces, and refuses unknown paths and repeats", () => {
    const r = resolveExperimentRequest({
      ...base,
      sweep: {
        "model.hiddenLayers": [0, 4],
        "training.batchSize": [100, 100],
        "training.epochs": [1, 2],
      },
    });
    expect(r.ok ? [] : r.issues.map((i) => i.path).sort()).toEqual([
      "sweep",
      "sweep.model.hiddenLayers.0",
      "sweep.training.batchSize",
    ]);
    const both = resolveExperimentRequest({
      ...base,
      sweep: { "training.optimizer": [{ name: "adam" }], "training.optimizer.learningRate": [0.1] },
    });
    expect(both.ok ? [] : both.issues.map((i) => i.path)).toEqual(["sweep.training.optimizer.learningRate"]);
    const batch = resolveExperimentRequest({
      ...base,
      dataset: { samples: 100 },
      sweep: { "training.batchSize": [10, 500] },
    });
    expect(batch.ok ? [] : batch.issues.map((i) => i.message)).toEqual([
      "batchSize 500 exceeds the 80 training samples",
    ]);
  });

  it("offers the vanishing-depth preset: 5 activations × 7 depths × 3 repeats of 20 epochs", () => {
    const preset = PRESETS.find((p) => p.id === "vanishing-depth")!;
    const spec = ZExperimentSpec.parse(preset.spec);
    expect(spec.variants.map((v) => v.activation)).toEqual(["sigmoid", "tanh", "relu", "leaky_relu", "elu"]);
    expect(sweepCells(spec).map((c) => c["model.hiddenLayers"])).toEqual([1, 2, 3, 4, 6, 8, 10]);
    expect(spec.training).toMatchObject({ epochs: 20, repeats: 3 });
    expect(sweepCells(spec).length * spec.variants.length * spec.training.repeats).toBe(105);
  });

  it("takes optional early stopping on the test loss", () => {
    expect(ZExperimentSpec.parse(base).training.earlyStopping).toBeNull();
    expect(
      ZExperimentSpec.parse({ ...base, training: { earlyStopping: { patience: 2 } } }).training.earlyStopping,
    ).toEqual({
      metric: "testLoss",
      patience: 2,
      minDelta: 0,
    });
  });
});
