import {
  ACTIVATION_NAMES,
  type ActivationDef,
  type ActivationParamName,
  activationDef,
  type TActivationName,
  type TVariant,
  type TVariantOf,
} from "@actlab/contracts";
import * as tf from "@tensorflow/tfjs";
import { ActlabActivation, RReLU } from "./layers.js";

/**
 * What the trainer adds to each activation of `@actlab/contracts`' ACTIVATIONS: closed-form f
 * and f′ (for plots and for the probe metrics) and how its TF.js layer is built. At the kinks
 * (x = 0) f′ follows TensorFlow.js's gradient convention for the layer actlab trains with
 * (relu′(0) = 0, leaky/prelu/rrelu′(0) = slope, elu′(0) = α, selu′(0) = λα), which
 * `activations.test.ts` checks against tf.grad.
 */

/** Parameter values by name; a missing one takes the activation's default. */
export type ActivationParams = Readonly<Record<string, number | undefined>>;

interface ActivationImpl<N extends TActivationName> {
  f: (x: number, params?: ActivationParams) => number;
  df: (x: number, params?: ActivationParams) => number;
  layer: (variant: TVariantOf<N>, base: { name?: string }) => tf.layers.Layer;
}

/** The value of one parameter: the given one, else the definition's default. */
function param<N extends TActivationName>(
  q: ActivationParams | undefined,
  name: N,
  key: ActivationParamName<N>,
): number {
  return q?.[key] ?? (activationDef(name).params[key]?.default as number);
}

const SELU_LAMBDA = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
/** ln(1 + eˣ) without overflow. */
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
/** erf by Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7): plenty for plots and metrics. */
function erf(x: number): number {
  const s = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-a * a);
  return s * y;
}
const phi = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
const Phi = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));

/** A layer TF.js has built in under the same name. */
const builtIn =
  (activation: "sigmoid" | "tanh" | "relu" | "selu" | "softplus" | "linear") =>
  (_variant: unknown, base: { name?: string }) =>
    tf.layers.activation({ ...base, activation });

const rreluSlope = (q: ActivationParams | undefined) =>
  (param(q, "rrelu", "lower") + param(q, "rrelu", "upper")) / 2;
// For plots prelu's α is alphaInit unless a learned `alpha` is given; the probe metrics pass
// each unit's learned α.
const preluSlope = (q: ActivationParams | undefined) => q?.alpha ?? param(q, "prelu", "alphaInit");

const IMPLS = {
  sigmoid: {
    f: sigmoid,
    df: (x) => {
      const s = sigmoid(x);
      return s * (1 - s);
    },
    layer: builtIn("sigmoid"),
  },
  tanh: { f: Math.tanh, df: (x) => 1 - Math.tanh(x) ** 2, layer: builtIn("tanh") },
  relu: { f: (x) => Math.max(0, x), df: (x) => (x > 0 ? 1 : 0), layer: builtIn("relu") },
  leaky_relu: {
    f: (x, q) => (x > 0 ? x : param(q, "leaky_relu", "alpha") * x),
    df: (x, q) => (x > 0 ? 1 : param(q, "leaky_relu", "alpha")),
    layer: (v, base) => tf.layers.leakyReLU({ ...base, alpha: v.alpha }),
  },
  prelu: {
    f: (x, q) => (x > 0 ? x : preluSlope(q) * x),
    df: (x, q) => (x > 0 ? 1 : preluSlope(q)),
    layer: (v, base) =>
      tf.layers.prelu({ ...base, alphaInitializer: tf.initializers.constant({ value: v.alphaInit }) }),
  },
  rrelu: {
    // The inference-time function (mean slope), which is what a trained model computes.
    f: (x, q) => (x > 0 ? x : rreluSlope(q) * x),
    df: (x, q) => (x > 0 ? 1 : rreluSlope(q)),
    layer: (v, base) => new RReLU({ ...base, lower: v.lower, upper: v.upper }),
  },
  elu: {
    f: (x, q) => (x > 0 ? x : param(q, "elu", "alpha") * Math.expm1(x)),
    df: (x, q) => (x > 0 ? 1 : param(q, "elu", "alpha") * Math.exp(x)),
    // TF.js's own ELU layer only allows α = 1.
    layer: (v, base) => new ActlabActivation({ ...base, fn: "elu", alpha: v.alpha }),
  },
  selu: {
    f: (x) => SELU_LAMBDA * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
    df: (x) => SELU_LAMBDA * (x > 0 ? 1 : SELU_ALPHA * Math.exp(x)),
    layer: builtIn("selu"),
  },
  gelu: {
    f: (x) => x * Phi(x),
    df: (x) => Phi(x) + x * phi(x),
    layer: (_v, base) => new ActlabActivation({ ...base, fn: "gelu" }),
  },
  silu: {
    f: (x) => x * sigmoid(x),
    df: (x) => {
      const s = sigmoid(x);
      return s * (1 + x * (1 - s));
    },
    layer: (_v, base) => new ActlabActivation({ ...base, fn: "silu" }),
  },
  softplus: { f: softplus, df: sigmoid, layer: builtIn("softplus") },
  mish: {
    f: (x) => x * Math.tanh(softplus(x)),
    df: (x) => {
      const t = Math.tanh(softplus(x));
      return t + x * sigmoid(x) * (1 - t * t);
    },
    layer: (_v, base) => new ActlabActivation({ ...base, fn: "mish" }),
  },
  linear: { f: (x) => x, df: () => 1, layer: builtIn("linear") },
} satisfies { [N in TActivationName]: ActivationImpl<N> };

/** An activation as the trainer uses it: its definition with f and f′. */
export interface Activation extends ActivationDef {
  name: TActivationName;
  f: (x: number, params?: ActivationParams) => number;
  df: (x: number, params?: ActivationParams) => number;
}

const BY_NAME = new Map<string, Activation>(
  ACTIVATION_NAMES.map((name) => {
    const { f, df } = IMPLS[name];
    return [name, { ...activationDef(name), name, f, df }];
  }),
);

export function getActivation(name: string): Activation {
  const info = BY_NAME.get(name);
  if (!info) throw new Error(`unknown activation "${name}"`);
  return info;
}

/** The activation layer of a variant (also used alone by the gradient tests). */
export function makeActivationLayer(variant: TVariant, name?: string): tf.layers.Layer {
  // Each entry's builder takes its own variant; the table is keyed by the discriminant, so the
  // pairing is right, which TypeScript cannot follow through a union.
  const build = IMPLS[variant.activation].layer as (v: TVariant, base: { name?: string }) => tf.layers.Layer;
  return build(variant, name === undefined ? {} : { name });
}

/**
 * Samples f and f′ on an even grid for plots (the chapter's figures 8.1–8.4). `plot` carries
 * the definition's plot-only values (prelu's learned `alpha`).
 */
export function sampleActivation(
  variant: TVariant,
  range: { from: number; to: number; points: number },
  plot: ActivationParams = {},
): { x: number[]; f: number[]; df: number[] } {
  const { activation, ...params } = variant;
  const { f, df } = IMPLS[activation];
  const q: ActivationParams = { ...params, ...plot };
  const points = Math.max(2, Math.floor(range.points));
  const x: number[] = [];
  const fs: number[] = [];
  const dfs: number[] = [];
  for (let i = 0; i < points; i++) {
    const xi = range.from + ((range.to - range.from) * i) / (points - 1);
    x.push(xi);
    fs.push(f(xi, q));
    dfs.push(df(xi, q));
  }
  return { x, f: fs, df: dfs };
}
