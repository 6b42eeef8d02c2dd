import { z } from "zod";
import { ACTIVATION_NAMES, activationDef, type TActivationName, ZActivationName } from "./activations.js";
import { ZDatasetName } from "./spec.js";

/** One parameter of an activation as GET /v1/activations lists it (from ACTIVATIONS). */
export const ZActivationParam = z.strictObject({
  name: z.string(),
  default: z.number(),
  min: z.number(),
  max: z.number(),
  /** false: the bound itself is not allowed (elu's α > 0). */
  minInclusive: z.boolean(),
  maxInclusive: z.boolean(),
  description: z.string(),
});
export type TActivationParam = z.infer<typeof ZActivationParam>;

const samples = z.array(z.number());

/** One catalog entry: the definition for people, and f and f′ sampled for plots. */
export const ZActivationInfo = z.strictObject({
  name: ZActivationName,
  title: z.string(),
  formulaLatex: z.string(),
  derivativeLatex: z.string(),
  params: z.array(ZActivationParam),
  learnable: z.boolean(),
  reluLike: z.boolean(),
  saturating: z.boolean(),
  samples: z.strictObject({ x: samples, f: samples, df: samples }),
});
export type TActivationInfo = z.infer<typeof ZActivationInfo>;

/** `GET /v1/activations` */
export const ZActivationCatalog = z.strictObject({ activations: z.array(ZActivationInfo) });
export type TActivationCatalog = z.infer<typeof ZActivationCatalog>;

/** A catalog entry without its samples, straight from the activation's definition. */
export function describeActivation(name: TActivationName): Omit<TActivationInfo, "samples"> {
  const def = activationDef(name);
  return {
    name,
    title: def.title,
    formulaLatex: def.formulaLatex,
    derivativeLatex: def.derivativeLatex,
    params: Object.entries(def.params).map(([param, p]) => ({
      name: param,
      default: p.default,
      min: p.min,
      max: p.max,
      minInclusive: !p.minExclusive,
      maxInclusive: true,
      description: p.description,
    })),
    learnable: def.learnable,
    reluLike: def.reluLike,
    saturating: def.saturating,
  };
}

/**
 * Every parameter name the catalog can resample with (`?alpha=0.5`), each with the activations
 * that take it: the variant parameters and the plot-only ones (prelu's learned `alpha`).
 */
export const CATALOG_PARAMS: ReadonlyMap<string, { variant: TActivationName[]; plot: TActivationName[] }> =
  (() => {
    const out = new Map<string, { variant: TActivationName[]; plot: TActivationName[] }>();
    const entry = (k: string) => out.get(k) ?? out.set(k, { variant: [], plot: [] }).get(k)!;
    for (const name of ACTIVATION_NAMES) {
      const def = activationDef(name);
      for (const k of Object.keys(def.params)) entry(k).variant.push(name);
      for (const k of Object.keys(def.plotParams ?? {})) entry(k).plot.push(name);
    }
    return out;
  })();

/** `GET /v1/datasets` */
export const ZDatasetList = z.strictObject({
  datasets: z.array(
    z.strictObject({
      name: ZDatasetName,
      available: z.boolean(),
      samples: z.number().int().describe("images on this install"),
      maxSamples: z.number().int().describe("the most an experiment may sample from it"),
      detail: z.string(),
    }),
  ),
});
export type TDatasetList = z.infer<typeof ZDatasetList>;
export type TDatasetInfo = TDatasetList["datasets"][number];

/** `GET /v1/presets`: each spec as written (defaults not filled in; a POST fills them). */
export const ZPresetList = z.strictObject({
  presets: z.array(
    z.strictObject({
      id: z.string(),
      title: z.string(),
      description: z.string(),
      spec: z.record(z.string(), z.unknown()),
      quick: z
        .strictObject({ epochs: z.number().int(), repeats: z.number().int() })
        .optional()
        .describe(
          'its quick version: submit { "preset": id, "training": quick } to try it before the full spec',
        ),
    }),
  ),
});
export type TPresetList = z.infer<typeof ZPresetList>;
export type TPresetInfo = TPresetList["presets"][number];
