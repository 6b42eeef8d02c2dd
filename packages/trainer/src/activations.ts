import type { TActivationName } from "@actlab/contracts";

/**
 * The catalog of hidden activations: formulas for people (LaTeX) and closed-form f and f′ for
 * plots and for the metric code. At the kinks (x = 0) f′ follows TensorFlow.js's gradient
 * convention for the layer actlab trains with (relu′(0) = 0, leaky/prelu/rrelu′(0) = slope,
 * elu′(0) = α, selu′(0) = λα), which `activations.test.ts` checks against tf.grad.
 */
export interface ActivationParam {
  name: string;
  default: number;
  min: number;
  max: number;
  description: string;
}

export type ActivationParams = Record<string, number>;

export interface ActivationInfo {
  name: TActivationName;
  title: string;
  formulaLatex: string;
  derivativeLatex: string;
  params: ActivationParam[];
  /** Whether the function has something learned during training (prelu's α). */
  learnable: boolean;
  /** ReLU-like: a unit whose input is never > 0 is "dead". */
  reluLike: boolean;
  /** Bounded, saturating at both ends (sigmoid, tanh). */
  saturating: boolean;
  f: (x: number, params?: ActivationParams) => number;
  df: (x: number, params?: ActivationParams) => number;
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

const p = (params: ActivationParams | undefined, name: string, fallback: number) =>
  params?.[name] ?? fallback;

export const ACTIVATION_CATALOG: ActivationInfo[] = [
  {
    name: "sigmoid",
    title: "Logistic sigmoid",
    formulaLatex: "\\sigma(x) = \\frac{1}{1 + e^{-x}}",
    derivativeLatex: "\\sigma'(x) = \\sigma(x)\\,(1 - \\sigma(x))",
    params: [],
    learnable: false,
    reluLike: false,
    saturating: true,
    f: sigmoid,
    df: (x) => {
      const s = sigmoid(x);
      return s * (1 - s);
    },
  },
  {
    name: "tanh",
    title: "Hyperbolic tangent",
    formulaLatex: "\\tanh(x) = \\frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
    derivativeLatex: "\\tanh'(x) = 1 - \\tanh^2(x)",
    params: [],
    learnable: false,
    reluLike: false,
    saturating: true,
    f: Math.tanh,
    df: (x) => 1 - Math.tanh(x) ** 2,
  },
  {
    name: "relu",
    title: "Rectified linear unit (ReLU)",
    formulaLatex: "\\mathrm{ReLU}(x) = \\max(0, x)",
    derivativeLatex: "\\mathrm{ReLU}'(x) = \\begin{cases} 1 & x > 0 \\\\ 0 & x \\le 0 \\end{cases}",
    params: [],
    learnable: false,
    reluLike: true,
    saturating: false,
    f: (x) => Math.max(0, x),
    df: (x) => (x > 0 ? 1 : 0),
  },
  {
    name: "leaky_relu",
    title: "Leaky ReLU",
    formulaLatex: "f(x) = \\begin{cases} x & x > 0 \\\\ \\alpha x & x \\le 0 \\end{cases}",
    derivativeLatex: "f'(x) = \\begin{cases} 1 & x > 0 \\\\ \\alpha & x \\le 0 \\end{cases}",
    params: [{ name: "alpha", default: 0.01, min: 0, max: 1, description: "slope for negative inputs" }],
    learnable: false,
    reluLike: true,
    saturating: false,
    f: (x, q) => (x > 0 ? x : p(q, "alpha", 0.01) * x),
    df: (x, q) => (x > 0 ? 1 : p(q, "alpha", 0.01)),
  },
  {
    name: "prelu",
    title: "Parametric ReLU (PReLU)",
    formulaLatex:
      "f(x_i) = \\begin{cases} x_i & x_i > 0 \\\\ \\alpha_i x_i & x_i \\le 0 \\end{cases}, \\quad \\alpha_i \\text{ learned per unit}",
    derivativeLatex:
      "\\frac{\\partial f}{\\partial x_i} = \\begin{cases} 1 & x_i > 0 \\\\ \\alpha_i & x_i \\le 0 \\end{cases}, \\quad \\frac{\\partial f}{\\partial \\alpha_i} = \\begin{cases} 0 & x_i > 0 \\\\ x_i & x_i \\le 0 \\end{cases}",
    params: [
      {
        name: "alphaInit",
        default: 0,
        min: -1,
        max: 1,
        description: "initial value of every unit's learned negative slope α",
      },
    ],
    learnable: true,
    reluLike: true,
    saturating: false,
    // For plots α is the initial value; in a trained network each unit has its own.
    f: (x, q) => (x > 0 ? x : p(q, "alpha", p(q, "alphaInit", 0)) * x),
    df: (x, q) => (x > 0 ? 1 : p(q, "alpha", p(q, "alphaInit", 0))),
  },
  {
    name: "rrelu",
    title: "Randomized leaky ReLU (RReLU)",
    formulaLatex:
      "f(x) = \\begin{cases} x & x > 0 \\\\ a x & x \\le 0 \\end{cases}, \\quad a \\sim U(l, u) \\text{ per element in training}, \\; a = \\tfrac{l + u}{2} \\text{ at inference}",
    derivativeLatex: "f'(x) = \\begin{cases} 1 & x > 0 \\\\ a & x \\le 0 \\end{cases}",
    params: [
      { name: "lower", default: 0.125, min: 0, max: 1, description: "lower bound l of the random slope" },
      { name: "upper", default: 0.333, min: 0, max: 1, description: "upper bound u of the random slope" },
    ],
    learnable: false,
    reluLike: true,
    saturating: false,
    // The inference-time function (mean slope), which is what a trained model computes.
    f: (x, q) => (x > 0 ? x : ((p(q, "lower", 0.125) + p(q, "upper", 0.333)) / 2) * x),
    df: (x, q) => (x > 0 ? 1 : (p(q, "lower", 0.125) + p(q, "upper", 0.333)) / 2),
  },
  {
    name: "elu",
    title: "Exponential linear unit (ELU)",
    formulaLatex: "f(x) = \\begin{cases} x & x > 0 \\\\ \\alpha (e^{x} - 1) & x \\le 0 \\end{cases}",
    derivativeLatex: "f'(x) = \\begin{cases} 1 & x > 0 \\\\ \\alpha e^{x} & x \\le 0 \\end{cases}",
    params: [
      {
        name: "alpha",
        default: 1,
        min: 0,
        max: 10,
        description: "value approached for large negative x is −α",
      },
    ],
    learnable: false,
    reluLike: true,
    saturating: false,
    f: (x, q) => (x > 0 ? x : p(q, "alpha", 1) * Math.expm1(x)),
    df: (x, q) => (x > 0 ? 1 : p(q, "alpha", 1) * Math.exp(x)),
  },
  {
    name: "selu",
    title: "Scaled ELU (SELU)",
    formulaLatex:
      "f(x) = \\lambda \\begin{cases} x & x > 0 \\\\ \\alpha (e^{x} - 1) & x \\le 0 \\end{cases}, \\; \\lambda \\approx 1.0507, \\alpha \\approx 1.6733",
    derivativeLatex: "f'(x) = \\lambda \\begin{cases} 1 & x > 0 \\\\ \\alpha e^{x} & x \\le 0 \\end{cases}",
    params: [],
    learnable: false,
    reluLike: true,
    saturating: false,
    f: (x) => SELU_LAMBDA * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
    df: (x) => SELU_LAMBDA * (x > 0 ? 1 : SELU_ALPHA * Math.exp(x)),
  },
  {
    name: "gelu",
    title: "Gaussian error linear unit (GELU)",
    formulaLatex: "f(x) = x\\,\\Phi(x) = \\tfrac{x}{2}\\left(1 + \\mathrm{erf}(x / \\sqrt{2})\\right)",
    derivativeLatex: "f'(x) = \\Phi(x) + x\\,\\varphi(x)",
    params: [],
    learnable: false,
    reluLike: false,
    saturating: false,
    f: (x) => x * Phi(x),
    df: (x) => Phi(x) + x * phi(x),
  },
  {
    name: "silu",
    title: "Sigmoid linear unit (SiLU, swish)",
    formulaLatex: "f(x) = x\\,\\sigma(x)",
    derivativeLatex: "f'(x) = \\sigma(x)\\,\\left(1 + x\\,(1 - \\sigma(x))\\right)",
    params: [],
    learnable: false,
    reluLike: false,
    saturating: false,
    f: (x) => x * sigmoid(x),
    df: (x) => {
      const s = sigmoid(x);
      return s * (1 + x * (1 - s));
    },
  },
  {
    name: "softplus",
    title: "Softplus",
    formulaLatex: "f(x) = \\ln(1 + e^{x})",
    derivativeLatex: "f'(x) = \\sigma(x)",
    params: [],
    learnable: false,
    reluLike: false,
    saturating: false,
    f: softplus,
    df: sigmoid,
  },
  {
    name: "mish",
    title: "Mish",
    formulaLatex: "f(x) = x \\tanh(\\ln(1 + e^{x}))",
    derivativeLatex:
      "f'(x) = \\tanh(\\mathrm{sp}(x)) + x\\,\\sigma(x)\\,\\left(1 - \\tanh^2(\\mathrm{sp}(x))\\right), \\; \\mathrm{sp}(x) = \\ln(1 + e^{x})",
    params: [],
    learnable: false,
    reluLike: false,
    saturating: false,
    f: (x) => x * Math.tanh(softplus(x)),
    df: (x) => {
      const t = Math.tanh(softplus(x));
      return t + x * sigmoid(x) * (1 - t * t);
    },
  },
  {
    name: "linear",
    title: "Identity (linear)",
    formulaLatex: "f(x) = x",
    derivativeLatex: "f'(x) = 1",
    params: [],
    learnable: false,
    reluLike: false,
    saturating: false,
    f: (x) => x,
    df: () => 1,
  },
];

const BY_NAME = new Map(ACTIVATION_CATALOG.map((a) => [a.name, a]));

export function getActivation(name: string): ActivationInfo {
  const info = BY_NAME.get(name as TActivationName);
  if (!info) throw new Error(`unknown activation "${name}"`);
  return info;
}

/** Fills in defaults and rejects unknown or out-of-range parameters. */
export function resolveActivationParams(name: string, params: ActivationParams = {}): ActivationParams {
  const info = getActivation(name);
  const out: ActivationParams = {};
  for (const k of Object.keys(params)) {
    if (!info.params.some((q) => q.name === k) && !(name === "prelu" && k === "alpha")) {
      throw new Error(`activation "${name}" has no parameter "${k}"`);
    }
  }
  for (const q of info.params) {
    const v = params[q.name] ?? q.default;
    if (!Number.isFinite(v) || v < q.min || v > q.max) {
      throw new Error(`${name}.${q.name} must be within [${q.min}, ${q.max}], got ${v}`);
    }
    out[q.name] = v;
  }
  if (name === "prelu" && params.alpha !== undefined) out.alpha = params.alpha;
  return out;
}

/** Samples f and f′ on an even grid for plots (the chapter's figures 8.1–8.4). */
export function sampleActivation(
  name: string,
  params: ActivationParams | undefined,
  range: { from: number; to: number; points: number },
): { x: number[]; f: number[]; df: number[] } {
  const info = getActivation(name);
  const q = resolveActivationParams(name, params ?? {});
  const points = Math.max(2, Math.floor(range.points));
  const x: number[] = [];
  const f: number[] = [];
  const df: number[] = [];
  for (let i = 0; i < points; i++) {
    const xi = range.from + ((range.to - range.from) * i) / (points - 1);
    x.push(xi);
    f.push(info.f(xi, q));
    df.push(info.df(xi, q));
  }
  return { x, f, df };
}
