import type * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { variantOf } from "./__tests__/support.js";
import { initBackend } from "./backend.js";
import { buildNet } from "./model.js";

beforeAll(async () => {
  await initBackend({ device: "cpu", force: "cpu" });
});

function kernelStats(init: Parameters<typeof buildNet>[0]["model"]["initializer"], seed = 5) {
  const net = buildNet({
    model: { hiddenLayers: 2, units: 300, initializer: init },
    variant: variantOf({ activation: "relu" }),
    seed,
    inputSize: 400,
    classes: 10,
  });
  const k = Array.from((net.model.getWeights()[0] as tf.Tensor).dataSync());
  const bias = Array.from((net.model.getWeights()[1] as tf.Tensor).dataSync());
  net.model.dispose();
  const mean = k.reduce((a, b) => a + b, 0) / k.length;
  const std = Math.sqrt(k.reduce((a, b) => a + (b - mean) ** 2, 0) / k.length);
  return { k, mean, std, max: Math.max(...k.map(Math.abs)), bias };
}

describe("network and initializers", () => {
  it("glorot_uniform: U(±√(6/(fan_in+fan_out))), zero biases", () => {
    const s = kernelStats({ name: "glorot_uniform" });
    const limit = Math.sqrt(6 / (400 + 300));
    expect(s.max).toBeLessThanOrEqual(limit);
    expect(s.max).toBeGreaterThan(limit * 0.99);
    expect(s.std).toBeCloseTo(limit / Math.sqrt(3), 3);
    expect(new Set(s.bias)).toEqual(new Set([0]));
  });

  it("truncated_normal: the given stddev, cut at two standard deviations", () => {
    const s = kernelStats({ name: "truncated_normal", stddev: 0.01 });
    expect(s.max).toBeLessThanOrEqual(0.02 + 1e-7);
    // A normal truncated at ±2σ has a standard deviation of about 0.88σ.
    expect(s.std).toBeGreaterThan(0.0085);
    expect(s.std).toBeLessThan(0.0091);
  });

  it("he_normal: standard deviation √(2/fan_in)", () => {
    const s = kernelStats({ name: "he_normal" });
    expect(s.std).toBeCloseTo(Math.sqrt(2 / 400), 3);
  });

  it("the same seed gives the same weights whatever the activation; another seed differs", () => {
    const weights = (activation: "relu" | "sigmoid" | "prelu", seed: number) => {
      const net = buildNet({
        model: { hiddenLayers: 3, units: 6, initializer: { name: "glorot_uniform" } },
        variant: variantOf({ activation }),
        seed,
        inputSize: 5,
        classes: 2,
      });
      const dense = net.dense.flatMap((l) => l.getWeights().map((t) => Array.from(t.dataSync())));
      net.model.dispose();
      return dense;
    };
    expect(weights("sigmoid", 11)).toEqual(weights("relu", 11));
    expect(weights("prelu", 11)).toEqual(weights("relu", 11));
    expect(weights("relu", 12)).not.toEqual(weights("relu", 11));
  });

  it("shares weights across depths wherever the shapes agree (a depth sweep's cells)", () => {
    const kernels = (hiddenLayers: number) => {
      const net = buildNet({
        model: { hiddenLayers, units: 6, initializer: { name: "glorot_uniform" } },
        variant: variantOf({ activation: "sigmoid" }),
        seed: 11,
        inputSize: 5,
        classes: 2,
      });
      const out = net.dense.map((l) => Array.from((l.getWeights()[0] as tf.Tensor).dataSync()));
      net.model.dispose();
      return out;
    };
    const shallow = kernels(1);
    const deep = kernels(3);
    expect(deep[0]).toEqual(shallow[0]);
    expect(deep.at(-1)).toEqual(shallow.at(-1));
    expect(deep[1]).not.toEqual(deep[2]);
  });

  it("has hiddenLayers dense+activation pairs, a dense output and softmax", () => {
    const net = buildNet({
      model: { hiddenLayers: 4, units: 7, initializer: { name: "glorot_uniform" } },
      variant: variantOf({ activation: "prelu", alphaInit: 0.1 }),
      seed: 1,
      inputSize: 9,
      classes: 4,
    });
    expect(net.dense).toHaveLength(5);
    expect(net.activations).toHaveLength(4);
    expect(net.model.outputs[0]?.shape).toEqual([null, 4]);
    // prelu: one learned slope per unit, initialised to alphaInit.
    const alpha = net.prelu[0]?.getWeights()[0];
    expect(alpha?.shape).toEqual([7]);
    expect(Array.from(alpha?.dataSync() ?? [])).toEqual(Array(7).fill(Math.fround(0.1)));
    net.model.dispose();
  });
});
