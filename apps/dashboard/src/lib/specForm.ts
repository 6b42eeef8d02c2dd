import {
  ACTIVATION_NAMES,
  type TActivationName,
  type TExperimentSpec,
  ZDatasetSpec,
  ZExperimentSpec,
  ZInitializer,
  ZModelSpec,
  ZOptimizer,
  ZTrainingSpec,
  ZVariant,
} from "@actlab/contracts";
import { type Bounds, bounds } from "./bounds.js";

/*
 * The new-experiment form edits a complete spec (every default filled in), validated with the
 * same zod schema the API uses; errors are keyed by the same dotted paths the API reports.
 */

export type FormSpec = TExperimentSpec;

export function blankSpec(): FormSpec {
  return ZExperimentSpec.parse({
    name: "my comparison",
    variants: [{ activation: "sigmoid" }, { activation: "relu" }],
  });
}

/** A preset's spec with defaults filled; falls back to the raw spec if it does not parse. */
export function specFromPreset(spec: unknown): FormSpec {
  const parsed = ZExperimentSpec.safeParse(spec);
  return parsed.success ? parsed.data : blankSpec();
}

export function defaultVariant(activation: TActivationName): FormSpec["variants"][number] {
  return ZVariant.parse({ activation });
}

type Shape = Record<string, unknown>;
const shapeOf = (s: unknown) => (s as { shape: Shape }).shape;

/** Limits of every numeric field, by dotted path (variant params by `activation.param`). */
export const FIELD_BOUNDS: Record<string, Bounds> = (() => {
  const out: Record<string, Bounds> = {};
  const add = (prefix: string, shape: Shape) => {
    for (const [k, v] of Object.entries(shape)) out[`${prefix}.${k}`] = bounds(v);
  };
  add("dataset", shapeOf(ZDatasetSpec));
  add("model", shapeOf(ZModelSpec));
  add("training", shapeOf(ZTrainingSpec));
  add("training.optimizer", shapeOf(ZOptimizer));
  for (const o of ZInitializer.options) add(`model.initializer`, shapeOf(o));
  for (const o of ZVariant.options) {
    const shape = shapeOf(o);
    const name = (shape["activation"] as { value: string }).value;
    for (const [k, v] of Object.entries(shape)) if (k !== "activation") out[`${name}.${k}`] = bounds(v);
  }
  return out;
})();

/** Parameter names each activation takes, in schema order. */
export const VARIANT_PARAMS: Record<string, string[]> = Object.fromEntries(
  ZVariant.options.map((o) => {
    const shape = shapeOf(o);
    const name = (shape["activation"] as { value: string }).value;
    return [name, Object.keys(shape).filter((k) => k !== "activation")];
  }),
);

export const ACTIVATIONS = ACTIVATION_NAMES;

export type FieldErrors = Record<string, string[]>;

export function validateSpec(spec: unknown): FieldErrors {
  const r = ZExperimentSpec.safeParse(spec);
  if (r.success) return {};
  const out: FieldErrors = {};
  for (const i of r.error.issues) {
    const path = i.path.map(String).join(".") || "(body)";
    out[path] = [...(out[path] ?? []), i.message];
  }
  return out;
}

/** Sets a value at a dotted path, copying along the way (immutable update). */
export function setPath<T>(obj: T, path: string, value: unknown): T {
  const [head, ...rest] = path.split(".");
  if (head === undefined) return obj;
  const src = obj as unknown as Record<string, unknown> | unknown[];
  const copy: Record<string, unknown> | unknown[] = Array.isArray(src) ? [...src] : { ...src };
  const cur = (copy as Record<string, unknown>)[head];
  (copy as Record<string, unknown>)[head] = rest.length ? setPath(cur ?? {}, rest.join("."), value) : value;
  return copy as T;
}

/** Total runs and epochs an experiment will train — shown before submitting. */
export function workload(spec: FormSpec): { runs: number; epochs: number } {
  const runs = spec.variants.length * spec.training.repeats;
  return { runs, epochs: runs * spec.training.epochs };
}
