import { DATASET_NAMES, LIMITS } from "@actlab/contracts";
import type { TDatasetInfo } from "../api/schemas.js";
import type { FormSpec } from "./specForm.js";

/*
 * The new-experiment form's fields (all but the variants), as data: the form renders each section
 * from this list, and the paths are the same dotted paths the API's validation errors name. Limits
 * and defaults are not repeated here: number fields read them from the contracts' schemas
 * (FIELD_BOUNDS), so a field only says what a schema cannot — its label, step and extra hints.
 */

export interface SelectOption {
  value: string;
  label: string;
  disabled?: boolean;
}

/** What a field's options and hints may depend on besides the spec. */
export interface FieldContext {
  spec: FormSpec;
  /** The API's dataset list; undefined until it arrives (or if it failed). */
  datasets: readonly TDatasetInfo[] | undefined;
}

interface FieldBase {
  /** Dotted path of the value in the spec (and of the API's error for it). */
  path: string;
  label: string;
  /** Shown only when this holds (a parameter of one initializer or optimizer). */
  when?: (spec: FormSpec) => boolean;
}

export interface TextFieldDef extends FieldBase {
  kind: "text";
  maxLength: number;
  hint: string;
}

export interface NumberFieldDef extends FieldBase {
  kind: "number";
  step?: number;
  /** Appended to the limits and default read from the schema. */
  note?: (ctx: FieldContext) => string | undefined;
}

export interface SelectFieldDef extends FieldBase {
  kind: "select";
  options: (ctx: FieldContext) => SelectOption[];
  hint?: (ctx: FieldContext) => string | undefined;
  /** Where a choice is written when it replaces more than the value itself (path, value). */
  write?: (value: string) => [string, unknown];
  /** More paths whose errors belong under this field. */
  alsoErrorsOf?: string[];
}

export type SpecFieldDef = TextFieldDef | NumberFieldDef | SelectFieldDef;

export interface SpecSection {
  title: string;
  fields: SpecFieldDef[];
}

const fixed = (options: SelectOption[]) => (): SelectOption[] => options;

const datasetInfo = ({ spec, datasets }: FieldContext) => datasets?.find((d) => d.name === spec.dataset.name);

function datasetLabel(d: TDatasetInfo): string {
  if (d.available === false) return `${d.title ?? d.name} (not installed)`;
  return `${d.title ?? d.name}${d.samples ? ` — ${d.samples.toLocaleString("en-US")} images` : ""}`;
}

/** The API's list when it has one (with availability); the bundled names otherwise. */
function datasetOptions({ spec, datasets }: FieldContext): SelectOption[] {
  if (!datasets?.length) return DATASET_NAMES.map((d) => ({ value: d, label: d }));
  return datasets.map((d) => ({
    value: d.name,
    label: datasetLabel(d),
    // An uninstalled dataset stays selectable only if the spec already names it (a preset).
    disabled: d.available === false && d.name !== spec.dataset.name,
  }));
}

export const BASICS: SpecSection = {
  title: "Basics",
  fields: [
    {
      kind: "text",
      path: "name",
      label: "Name",
      maxLength: LIMITS.maxNameLength,
      hint: `up to ${LIMITS.maxNameLength} characters`,
    },
    {
      kind: "select",
      path: "device",
      label: "Device",
      options: fixed([
        { value: "cpu", label: "CPU" },
        { value: "gpu", label: "GPU (waits for a GPU worker)" },
        { value: "any", label: "Any free worker" },
      ]),
    },
  ],
};

export const DATASET: SpecSection = {
  title: "Dataset",
  fields: [
    {
      kind: "select",
      path: "dataset.name",
      label: "Dataset",
      options: datasetOptions,
      hint: (ctx) => datasetInfo(ctx)?.detail,
    },
    {
      kind: "number",
      path: "dataset.samples",
      label: "Samples",
      note: (ctx) => {
        const max = datasetInfo(ctx)?.maxSamples;
        return max ? `this install has ${max.toLocaleString("en-US")}` : undefined;
      },
    },
    { kind: "number", path: "dataset.testFraction", label: "Test fraction", step: 0.05 },
    {
      kind: "select",
      path: "dataset.pixelScale",
      label: "Pixel scale",
      options: fixed([
        { value: "unit", label: "unit — pixels in [0, 1]" },
        { value: "raw", label: "raw — pixels 0–255" },
      ]),
    },
    { kind: "number", path: "dataset.seed", label: "Split seed", note: () => "same split for every run" },
  ],
};

export const NETWORK: SpecSection = {
  title: "Network",
  fields: [
    { kind: "number", path: "model.hiddenLayers", label: "Hidden layers" },
    { kind: "number", path: "model.units", label: "Units per layer" },
    {
      kind: "select",
      path: "model.initializer.name",
      label: "Initializer",
      options: fixed([
        { value: "glorot_uniform", label: "glorot_uniform (Keras default)" },
        { value: "truncated_normal", label: "truncated_normal" },
        { value: "he_normal", label: "he_normal" },
      ]),
      // Each initializer has its own parameters: a choice replaces the whole object.
      write: (name) => ["model.initializer", name === "truncated_normal" ? { name, stddev: 0.01 } : { name }],
      alsoErrorsOf: ["model.initializer"],
    },
    {
      kind: "number",
      path: "model.initializer.stddev",
      label: "Initializer stddev",
      when: (spec) => spec.model.initializer.name === "truncated_normal",
    },
  ],
};

export const TRAINING: SpecSection = {
  title: "Training",
  fields: [
    {
      kind: "select",
      path: "training.optimizer.name",
      label: "Optimizer",
      options: fixed([
        { value: "sgd", label: "SGD" },
        { value: "momentum", label: "SGD with momentum" },
        { value: "adam", label: "Adam" },
      ]),
    },
    { kind: "number", path: "training.optimizer.learningRate", label: "Learning rate", step: 0.001 },
    {
      kind: "number",
      path: "training.optimizer.momentum",
      label: "Momentum",
      step: 0.01,
      when: (spec) => spec.training.optimizer.name === "momentum",
    },
    { kind: "number", path: "training.epochs", label: "Epochs" },
    { kind: "number", path: "training.batchSize", label: "Batch size" },
    { kind: "number", path: "training.repeats", label: "Repeats", note: () => "seeds differ per repeat" },
    { kind: "number", path: "training.seed", label: "Training seed" },
  ],
};

/** In the order the form shows them; the variants editor sits between NETWORK and TRAINING. */
export const SPEC_SECTIONS = [BASICS, DATASET, NETWORK, TRAINING] as const;

const FIELD_PATHS = new Set(
  SPEC_SECTIONS.flatMap((s) =>
    s.fields.flatMap((f) => [f.path, ...(f.kind === "select" ? (f.alsoErrorsOf ?? []) : [])]),
  ),
);

/**
 * Whether some field of the form shows the API's errors for this path (the variants editor takes
 * `variants` and everything below it); the others are listed next to the submit button.
 */
export function shownByAField(path: string): boolean {
  return (
    FIELD_PATHS.has(path) ||
    path === "variants" ||
    path.startsWith("variants.") ||
    path.startsWith("model.initializer")
  );
}

/** Reads the value at a dotted path (the counterpart of setPath). */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const key of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}
