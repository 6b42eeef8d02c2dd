import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { variantOf } from "./__tests__/support.js";
import { exportModel, loadArtifactModel, predict } from "./artifact.js";
import { initBackend } from "./backend.js";
import { sha256Hex } from "./data/fetch.js";
import { buildNet } from "./model.js";

beforeAll(async () => {
  await initBackend({ device: "cpu", force: "cpu" });
});

const VARIANTS = [
  { activation: "rrelu", lower: 0.05, upper: 0.4 },
  { activation: "prelu", alphaInit: 0.2 },
  { activation: "elu", alpha: 0.7 },
  { activation: "mish" },
  { activation: "leaky_relu", alpha: 0.05 },
  { activation: "tanh" },
] as const;

describe("model artifacts", () => {
  for (const v of VARIANTS) {
    it(`${v.activation}: export → tf.loadLayersModel gives the same predictions and config`, async () => {
      const variant = variantOf(v);
      const net = buildNet({
        model: { hiddenLayers: 2, units: 8, initializer: { name: "glorot_uniform" } },
        variant,
        seed: 7,
        inputSize: 12,
        classes: 3,
      });
      const inputs = Array.from({ length: 5 }, (_, i) =>
        Array.from({ length: 12 }, (_, j) => Math.sin(i * 12 + j) * 3),
      );
      const before = predict(net.model, inputs);
      const artifact = await exportModel(net.model);
      expect(artifact.sha256).toBe(sha256Hex(artifact.weights));
      expect(JSON.stringify(artifact.topology)).toContain(
        v.activation === "rrelu"
          ? '"class_name":"RReLU"'
          : v.activation === "prelu"
            ? '"PReLU"'
            : v.activation,
      );
      // A JSON round trip, like the API serving model.json.
      const loaded = await loadArtifactModel({
        ...artifact,
        topology: JSON.parse(JSON.stringify(artifact.topology)),
        weightSpecs: JSON.parse(JSON.stringify(artifact.weightSpecs)),
        weights: new Uint8Array(artifact.weights),
      });
      const after = predict(loaded, inputs);
      expect(after.classes).toEqual(before.classes);
      after.probabilities.forEach((row, i) => {
        for (const [j, p] of row.entries()) expect(p).toBeCloseTo(before.probabilities[i]?.[j] as number, 6);
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      });
      if (v.activation === "rrelu") {
        const layer = loaded.layers.find((l) => l.getClassName() === "RReLU");
        expect(layer?.getConfig()).toMatchObject({ lower: 0.05, upper: 0.4 });
      }
      loaded.dispose();
      net.model.dispose();
    });
  }

  it("predict leaves no tensors behind", () => {
    const net = buildNet({
      model: { hiddenLayers: 1, units: 4, initializer: { name: "he_normal" } },
      variant: variantOf({ activation: "relu" }),
      seed: 1,
      inputSize: 3,
      classes: 2,
    });
    const before = tf.memory().numTensors;
    predict(net.model, [[1, 2, 3]]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => predict(net.model, [[1, 2]])).toThrow(/input 0 has 2 values; the model takes 3/);
    net.model.dispose();
  });
});
