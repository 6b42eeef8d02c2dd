import { ACTIVATION_NAMES } from "@actlab/contracts";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { variantOf } from "./__tests__/support.js";
import { getActivation, makeActivationLayer, sampleActivation } from "./activations.js";
import { initBackend } from "./backend.js";
import { RReLU } from "./layers.js";

// A grid that includes 0, small values around the kinks, and large |x|.
const GRID = [-30, -12, -5, -2, -1, -0.5, -1e-3, 0, 1e-3, 0.5, 1, 2, 5, 12, 30];

/** Parameters that differ from the defaults, so a catalog that ignored them would fail. */
const CASES = [
  { activation: "sigmoid" },
  { activation: "tanh" },
  { activation: "relu" },
  { activation: "leaky_relu", alpha: 0.2 },
  { activation: "prelu", alphaInit: 0.3 },
  { activation: "rrelu", lower: 0.1, upper: 0.3 },
  { activation: "elu", alpha: 1 },
  { activation: "elu", alpha: 0.5 },
  { activation: "selu" },
  { activation: "gelu" },
  { activation: "silu" },
  { activation: "softplus" },
  { activation: "mish" },
  { activation: "linear" },
] as const;

function closeTo(actual: number, expected: number, what: string) {
  const tol = 1e-5 + 1e-4 * Math.abs(expected);
  if (!(Math.abs(actual - expected) <= tol))
    throw new Error(`${what}: tf gives ${actual}, catalog ${expected}`);
}

describe.each(["cpu", "wasm"] as const)("activation catalog on the %s backend", (backend) => {
  beforeAll(async () => {
    await initBackend({ device: "cpu", force: backend });
  });

  it("covers every activation the contracts allow, with formulas and parameter ranges", () => {
    for (const a of ACTIVATION_NAMES.map(getActivation)) {
      expect(a.formulaLatex.length).toBeGreaterThan(3);
      expect(a.derivativeLatex.length).toBeGreaterThan(3);
      for (const p of Object.values(a.params)) {
        expect(p.minExclusive ? p.min < p.default : p.min <= p.default).toBe(true);
        expect(p.default <= p.max).toBe(true);
      }
    }
  });

  for (const c of CASES) {
    const label = JSON.stringify(c);
    it(`f and f′ of ${label} equal the trained layer's output and tf.grad on the grid`, () => {
      const variant = variantOf(c);
      const { activation, ...params } = variant as { activation: string } & Record<string, number>;
      const info = getActivation(activation);
      const layer = makeActivationLayer(variant);
      const x = tf.tensor1d(GRID);
      // Layers expect a batch: treat the grid as one example with GRID.length units (prelu needs the unit axis).
      const x2 = x.reshape([1, GRID.length]);
      const y = (layer.apply(x2, { training: false }) as tf.Tensor).dataSync();
      const dy = tf
        .grad((t: tf.Tensor) => tf.sum(layer.apply(t, { training: false }) as tf.Tensor))(x2)
        .dataSync();
      GRID.forEach((xi, i) => {
        closeTo(y[i] as number, info.f(xi, params), `${label} f(${xi})`);
        closeTo(dy[i] as number, info.df(xi, params), `${label} f′(${xi})`);
      });
      const sampled = sampleActivation(variant, { from: -3, to: 3, points: 7 });
      expect(sampled.x).toEqual([-3, -2, -1, 0, 1, 2, 3]);
      expect(sampled.f[3]).toBeCloseTo(info.f(0, params), 12);
      expect(sampled.df).toHaveLength(7);
      tf.dispose([x, x2]);
      layer.dispose();
    });
  }

  it("prelu: ∂f/∂α from tf.grad equals the catalog's x for x ≤ 0 and 0 above", () => {
    const layer = makeActivationLayer(variantOf({ activation: "prelu", alphaInit: 0.25 }));
    const x = tf.tensor2d([GRID]);
    layer.apply(x); // builds the α weight, one per unit
    const alpha = layer.trainableWeights[0]?.read() as tf.Variable;
    const upstream = tf.tensor2d([GRID.map((_, i) => 1 + i / 10)]); // non-uniform dL/dy
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, upstream)) as tf.Scalar,
      [alpha],
    );
    const dAlpha = (grads[alpha.name] as tf.Tensor).dataSync();
    GRID.forEach((xi, i) => {
      closeTo(dAlpha[i] as number, Math.min(xi, 0) * (1 + i / 10), `∂f/∂α at ${xi}`);
    });
    tf.dispose([x, upstream, grads[alpha.name] as tf.Tensor]);
    layer.dispose();
  });

  it("rrelu while training: per-element slopes in [lower, upper], gradient equal to the drawn slope, reproducible by seed", () => {
    const layer = new RReLU({ lower: 0.1, upper: 0.3 });
    const x = tf.fill([20, 50], -2);
    layer.stepSeed = 42;
    const y1 = (layer.apply(x, { training: true }) as tf.Tensor).dataSync();
    const g = tf
      .grad((t: tf.Tensor) => tf.sum(layer.apply(t, { training: true }) as tf.Tensor))(x)
      .dataSync();
    const slopes = Array.from(y1, (v) => v / -2);
    expect(Math.min(...slopes)).toBeGreaterThanOrEqual(0.1);
    expect(Math.max(...slopes)).toBeLessThanOrEqual(0.3);
    expect(new Set(slopes.map((s) => s.toFixed(6))).size).toBeGreaterThan(900); // per element, not shared
    slopes.forEach((s, i) => {
      closeTo(g[i] as number, s, "rrelu gradient");
    });
    layer.stepSeed = 43;
    const y2 = (layer.apply(x, { training: true }) as tf.Tensor).dataSync();
    expect(Array.from(y2)).not.toEqual(Array.from(y1));
    layer.stepSeed = 42;
    expect(Array.from((layer.apply(x, { training: true }) as tf.Tensor).dataSync())).toEqual(Array.from(y1));
    const mean = Array.from(slopes).reduce((a, b) => a + b, 0) / slopes.length;
    expect(mean).toBeCloseTo(0.2, 1);
    x.dispose();
  });
});
