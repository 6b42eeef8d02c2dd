import { z } from "zod";
import { issuePath, type TSpecIssue } from "./issues.js";

/**
 * The one definition of every hidden activation actlab trains: its parameters (bounds and
 * defaults), formulas for people, the flags the metrics use and the native engine's id. The zod
 * variant schema, the catalog (GET /v1/activations) and the native engine's dispatch are derived
 * from this table; `packages/trainer/src/activations.ts` adds f, f′ and the TF.js layer under the
 * same names (its type makes it cover every name). `docs/adding-an-activation.md` says how to add one.
 */
export interface ActivationParamDef {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  /** The bound itself is not allowed (elu's α > 0). */
  readonly minExclusive?: boolean;
  readonly description: string;
}

export interface ActivationDef {
  readonly title: string;
  readonly formulaLatex: string;
  readonly derivativeLatex: string;
  /** The variant's parameters, in the order they are shown. */
  readonly params: { readonly [name: string]: ActivationParamDef };
  /** Two parameters where the first must not exceed the second (rrelu's range). */
  readonly ordered?: readonly [string, string];
  /**
   * Extra values the catalog may plot with that are not variant parameters (prelu's learned
   * slope `alpha`, which training moves away from `alphaInit`).
   */
  readonly plotParams?: { readonly [name: string]: string };
  /** Has something learned during training (prelu's α). */
  readonly learnable: boolean;
  /** ReLU-like: a unit whose input is never > 0 is "dead". */
  readonly reluLike: boolean;
  /** Bounded, saturating at both ends (sigmoid, tanh). */
  readonly saturating: boolean;
  /** The native engine's kernel for it (packages/native dispatches on this, not on the name). */
  readonly nativeId: number;
}

const noParams = {} as const;

export const ACTIVATIONS = {
  sigmoid: {
    title: "Logistic sigmoid",
    formulaLatex: "\\sigma(x) = \\frac{1}{1 + e^{-x}}",
    derivativeLatex: "\\sigma'(x) = \\sigma(x)\\,(1 - \\sigma(x))",
    params: noParams,
    learnable: false,
    reluLike: false,
    saturating: true,
    nativeId: 0,
  },
  tanh: {
    title: "Hyperbolic tangent",
    formulaLatex: "\\tanh(x) = \\frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
    derivativeLatex: "\\tanh'(x) = 1 - \\tanh^2(x)",
    params: noParams,
    learnable: false,
    reluLike: false,
    saturating: true,
    nativeId: 1,
  },
  relu: {
    title: "Rectified linear unit (ReLU)",
    formulaLatex: "\\mathrm{ReLU}(x) = \\max(0, x)",
    derivativeLatex: "\\mathrm{ReLU}'(x) = \\begin{cases} 1 & x > 0 \\\\ 0 & x \\le 0 \\end{cases}",
    params: noParams,
    learnable: false,
    reluLike: true,
    saturating: false,
    nativeId: 2,
  },
  leaky_relu: {
    title: "Leaky ReLU",
    formulaLatex: "f(x) = \\begin{cases} x & x > 0 \\\\ \\alpha x & x \\le 0 \\end{cases}",
    derivativeLatex: "f'(x) = \\begin{cases} 1 & x > 0 \\\\ \\alpha & x \\le 0 \\end{cases}",
    params: { alpha: { default: 0.01, min: 0, max: 1, description: "slope for negative inputs" } },
    learnable: false,
    reluLike: true,
    saturating: false,
    nativeId: 3,
  },
  prelu: {
    title: "Parametric ReLU (PReLU)",
    formulaLatex:
      "f(x_i) = \\begin{cases} x_i & x_i > 0 \\\\ \\alpha_i x_i & x_i \\le 0 \\end{cases}, \\quad \\alpha_i \\text{ learned per unit}",
    derivativeLatex:
      "\\frac{\\partial f}{\\partial x_i} = \\begin{cases} 1 & x_i > 0 \\\\ \\alpha_i & x_i \\le 0 \\end{cases}, \\quad \\frac{\\partial f}{\\partial \\alpha_i} = \\begin{cases} 0 & x_i > 0 \\\\ x_i & x_i \\le 0 \\end{cases}",
    params: {
      alphaInit: {
        default: 0,
        min: -1,
        max: 1,
        description: "initial value of every unit's learned negative slope α",
      },
    },
    plotParams: { alpha: "a learned slope to plot instead of alphaInit" },
    learnable: true,
    reluLike: true,
    saturating: false,
    nativeId: 4,
  },
  rrelu: {
    title: "Randomized leaky ReLU (RReLU)",
    formulaLatex:
      "f(x) = \\begin{cases} x & x > 0 \\\\ a x & x \\le 0 \\end{cases}, \\quad a \\sim U(l, u) \\text{ per element in training}, \\; a = \\tfrac{l + u}{2} \\text{ at inference}",
    derivativeLatex: "f'(x) = \\begin{cases} 1 & x > 0 \\\\ a & x \\le 0 \\end{cases}",
    params: {
      lower: { default: 0.125, min: 0, max: 1, description: "lower bound l of the random slope" },
      upper: { default: 0.333, min: 0, max: 1, description: "upper bound u of the random slope" },
    },
    ordered: ["lower", "upper"],
    learnable: false,
    reluLike: true,
    saturating: false,
    nativeId: 5,
  },
  elu: {
    title: "Exponential linear unit (ELU)",
    formulaLatex: "f(x) = \\begin{cases} x & x > 0 \\\\ \\alpha (e^{x} - 1) & x \\le 0 \\end{cases}",
    derivativeLatex: "f'(x) = \\begin{cases} 1 & x > 0 \\\\ \\alpha e^{x} & x \\le 0 \\end{cases}",
    params: {
      // α > 0 as ELU is defined (Clevert et al. 2015): at α = 0 the layer trains, but as ReLU,
      // which is its own variant — an "elu(alpha=0)" run would be a ReLU run under another label.
      alpha: {
        default: 1,
        min: 0,
        minExclusive: true,
        max: 10,
        description: "value approached for large negative x is −α",
      },
    },
    learnable: false,
    reluLike: true,
    saturating: false,
    nativeId: 6,
  },
  selu: {
    title: "Scaled ELU (SELU)",
    formulaLatex:
      "f(x) = \\lambda \\begin{cases} x & x > 0 \\\\ \\alpha (e^{x} - 1) & x \\le 0 \\end{cases}, \\; \\lambda \\approx 1.0507, \\alpha \\approx 1.6733",
    derivativeLatex: "f'(x) = \\lambda \\begin{cases} 1 & x > 0 \\\\ \\alpha e^{x} & x \\le 0 \\end{cases}",
    params: noParams,
    learnable: false,
    reluLike: true,
    saturating: false,
    nativeId: 7,
  },
  gelu: {
    title: "Gaussian error linear unit (GELU)",
    formulaLatex: "f(x) = x\\,\\Phi(x) = \\tfrac{x}{2}\\left(1 + \\mathrm{erf}(x / \\sqrt{2})\\right)",
    derivativeLatex: "f'(x) = \\Phi(x) + x\\,\\varphi(x)",
    params: noParams,
    learnable: false,
    reluLike: false,
    saturating: false,
    nativeId: 8,
  },
  silu: {
    title: "Sigmoid linear unit (SiLU, swish)",
    formulaLatex: "f(x) = x\\,\\sigma(x)",
    derivativeLatex: "f'(x) = \\sigma(x)\\,\\left(1 + x\\,(1 - \\sigma(x))\\right)",
    params: noParams,
    learnable: false,
    reluLike: false,
    saturating: false,
    nativeId: 9,
  },
  softplus: {
    title: "Softplus",
    formulaLatex: "f(x) = \\ln(1 + e^{x})",
    derivativeLatex: "f'(x) = \\sigma(x)",
    params: noParams,
    learnable: false,
    reluLike: false,
    saturating: false,
    nativeId: 10,
  },
  mish: {
    title: "Mish",
    formulaLatex: "f(x) = x \\tanh(\\ln(1 + e^{x}))",
    derivativeLatex:
      "f'(x) = \\tanh(\\mathrm{sp}(x)) + x\\,\\sigma(x)\\,\\left(1 - \\tanh^2(\\mathrm{sp}(x))\\right), \\; \\mathrm{sp}(x) = \\ln(1 + e^{x})",
    params: noParams,
    learnable: false,
    reluLike: false,
    saturating: false,
    nativeId: 11,
  },
  linear: {
    title: "Identity (linear)",
    formulaLatex: "f(x) = x",
    derivativeLatex: "f'(x) = 1",
    params: noParams,
    learnable: false,
    reluLike: false,
    saturating: false,
    nativeId: 12,
  },
} as const satisfies Record<string, ActivationDef>;

export type TActivationName = keyof typeof ACTIVATIONS;
/** In the catalog's order (the order of ACTIVATIONS). */
export const ACTIVATION_NAMES = Object.keys(ACTIVATIONS) as [TActivationName, ...TActivationName[]];
export const ZActivationName = z.enum(ACTIVATION_NAMES);

/** The definition of one activation, typed as the general shape (for code that loops over all). */
export function activationDef(name: TActivationName): ActivationDef {
  return ACTIVATIONS[name];
}

/** Names of an activation's variant parameters (`alpha` of leaky_relu, none of relu). */
export type ActivationParamName<N extends TActivationName> = keyof (typeof ACTIVATIONS)[N]["params"] & string;

function paramSchema(p: ActivationParamDef) {
  const n = p.minExclusive ? z.number().gt(p.min) : z.number().min(p.min);
  return n.max(p.max).default(p.default);
}

type VariantShape<N extends TActivationName> = { activation: z.ZodLiteral<N> } & {
  [K in ActivationParamName<N>]: z.ZodDefault<z.ZodNumber>;
};
type VariantSchema<N extends TActivationName> = z.ZodObject<VariantShape<N>, z.core.$strict>;
type AnyVariantSchema = { [N in TActivationName]: VariantSchema<N> }[TActivationName];

function variantSchema<N extends TActivationName>(name: N): VariantSchema<N> {
  const def = activationDef(name);
  const shape: Record<string, z.ZodType> = { activation: z.literal(name) };
  for (const [k, p] of Object.entries(def.params)) shape[k] = paramSchema(p);
  const schema = z.strictObject(shape);
  const [lower, upper] = def.ordered ?? [];
  const checked =
    lower && upper
      ? schema.refine((v) => (v[lower] as number) <= (v[upper] as number), {
          message: `${lower} must not exceed ${upper}`,
          path: [lower],
          // Only between two valid values: an out-of-range one is reported as that alone.
          when: (payload) => payload.issues.length === 0,
        })
      : schema;
  // The shape is built from the table at run time; its static type is the mapped one above.
  return checked as unknown as VariantSchema<N>;
}

/** One variant of an experiment: an activation and its parameters, every default filled in. */
export const ZVariant = z.discriminatedUnion(
  "activation",
  ACTIVATION_NAMES.map(variantSchema) as unknown as [AnyVariantSchema, ...AnyVariantSchema[]],
);
export type TVariant = z.infer<typeof ZVariant>;
export type TVariantInput = z.input<typeof ZVariant>;
/** The variant of one activation (`TVariantOf<"elu">` is `{ activation: "elu"; alpha: number }`). */
export type TVariantOf<N extends TActivationName> = Extract<TVariant, { activation: N }>;

/** Parses a variant, reporting each bad parameter by name (`alpha`, `lower`) instead of throwing. */
export function resolveVariant(
  input: unknown,
): { ok: true; variant: TVariant } | { ok: false; issues: TSpecIssue[] } {
  const parsed = ZVariant.safeParse(input);
  if (parsed.success) return { ok: true, variant: parsed.data };
  return {
    ok: false,
    issues: parsed.error.issues.map((i) => ({ path: issuePath(i.path), message: i.message })),
  };
}

/** A short, stable label such as `leaky_relu(alpha=0.01)`, used in tables and charts. */
export function variantLabel(variant: TVariant): string {
  const { activation, ...params } = variant as { activation: string } & Record<string, number>;
  const parts = Object.entries(params).map(([k, v]) => `${k}=${v}`);
  return parts.length ? `${activation}(${parts.join(", ")})` : activation;
}
