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

/** What a number counts, for messages like "at most 1,024 units per layer". */
const UNITS: Readonly<Record<string, string>> = {
  "dataset.samples": "samples",
  "model.hiddenLayers": "hidden layers",
  "model.units": "units per layer",
  "training.epochs": "epochs",
  "training.batchSize": "samples per batch",
  "training.repeats": "repeats",
};

const fmt = (n: unknown) => (typeof n === "number" ? n.toLocaleString("en-US") : String(n));

/**
 * The form's own words for a schema issue ("at most 1,024 units per layer") instead of the
 * validator's ("Too big: expected number to be <=1024"). Custom checks already speak plainly.
 */
export function fieldMessage(issue: ZodIssueLike, path: string): string {
  const bound = issue.code === "too_big" ? issue.maximum : issue.minimum;
  // "at least 1 epoch", "at least 2 epochs": the first word of the unit follows the number.
  const words = UNITS[path] && bound === 1 ? UNITS[path].replace(/s\b/, "") : UNITS[path];
  const unit = words ? ` ${words}` : "";
  switch (issue.code) {
    case "too_big":
      return issue.inclusive === false
        ? `less than ${fmt(issue.maximum)}${unit}`
        : `at most ${fmt(issue.maximum)}${unit}`;
    case "too_small":
      if (issue.origin === "array") return "add at least one";
      if (issue.origin === "string") return "cannot be empty";
      return issue.inclusive === false
        ? `more than ${fmt(issue.minimum)}${unit}`
        : `at least ${fmt(issue.minimum)}${unit}`;
    case "invalid_type":
      return issue.expected === "number" || issue.expected === "int" ? "enter a number" : "required";
    case "invalid_format":
    case "not_multiple_of":
      return issue.expected === "int" || issue.format === "safeint" ? "a whole number" : issue.message;
    case "invalid_value":
      return "choose one of the listed values";
    default:
      return issue.message;
  }
}

interface ZodIssueLike {
  code: string;
  message: string;
  origin?: string;
  maximum?: unknown;
  minimum?: unknown;
  inclusive?: boolean;
  expected?: string;
  format?: string;
}

/**
 * The form's checks before submitting: the API's schema (in the form's words), and the dataset's
 * size on this install, which only the dataset list knows.
 */
export function validateSpec(
  spec: unknown,
  datasets?: readonly { name: string; available: boolean; samples: number }[],
): FieldErrors {
  const out: FieldErrors = {};
  const add = (path: string, message: string) => {
    out[path] = [...(out[path] ?? []), message];
  };
  const r = ZExperimentSpec.safeParse(spec);
  if (!r.success) {
    for (const i of r.error.issues) {
      const path = i.path.map(String).join(".") || "(body)";
      add(path, fieldMessage(i as ZodIssueLike, path));
    }
  }
  const s = spec as Partial<FormSpec>;
  const d = datasets?.find((x) => x.name === s.dataset?.name);
  if (d?.available && d.samples > 0 && (s.dataset?.samples ?? 0) > d.samples && !out["dataset.samples"]) {
    add(
      "dataset.samples",
      `at most ${fmt(d.samples)}: this install's ${d.name} has ${fmt(d.samples)} samples`,
    );
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
