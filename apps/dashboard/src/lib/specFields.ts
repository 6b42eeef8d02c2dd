import { DATASET_NAMES, DEFAULT_MOMENTUM, LIMITS, type TDatasetInfo } from "@actlab/contracts";
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

const num = (path: string, label: string, more: Partial<NumberFieldDef> = {}): NumberFieldDef => ({
  kind: "number",
  path,
  label,
  ...more,
});

/** A select with a fixed list of [value, label] choices. */
const choice = (
  path: string,
  label: string,
  choices: [value: string, label: string][],
  more: Partial<SelectFieldDef> = {},
): SelectFieldDef => {
  const options = choices.map(([value, label]) => ({ value, label }));
  return { kind: "select", path, label, options: () => options, ...more };
};

const datasetInfo = ({ spec, datasets }: FieldContext) => datasets?.find((d) => d.name === spec.dataset.name);

function datasetLabel(d: TDatasetInfo): string {
  if (d.available === false) return `${d.name} (not installed)`;
  return `${d.name}${d.samples ? ` — ${d.samples.toLocaleString("en-US")} images` : ""}`;
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
    choice("device", "Device", [
      ["cpu", "CPU"],
      ["gpu", "GPU (waits for a GPU worker)"],
      ["any", "Any free worker"],
    ]),
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
    num("dataset.samples", "Samples", {
      note: (ctx) => {
        const max = datasetInfo(ctx)?.maxSamples;
        return max ? `this install has ${max.toLocaleString("en-US")}` : undefined;
      },
    }),
    num("dataset.testFraction", "Test fraction", { step: 0.05 }),
    choice("dataset.pixelScale", "Pixel scale", [
      ["unit", "unit — pixels in [0, 1]"],
      ["raw", "raw — pixels 0–255"],
    ]),
    num("dataset.seed", "Split seed", { note: () => "same split for every run" }),
  ],
};

export const NETWORK: SpecSection = {
  title: "Network",
  fields: [
    num("model.hiddenLayers", "Hidden layers"),
    num("model.units", "Units per layer"),
    choice(
      "model.initializer.name",
      "Initializer",
      [
        ["glorot_uniform", "glorot_uniform (Keras default)"],
        ["truncated_normal", "truncated_normal"],
        ["he_normal", "he_normal"],
      ],
      {
        // Each initializer has its own parameters: a choice replaces the whole object.
        write: (name) => [
          "model.initializer",
          name === "truncated_normal" ? { name, stddev: 0.01 } : { name },
        ],
        alsoErrorsOf: ["model.initializer"],
      },
    ),
    num("model.initializer.stddev", "Initializer stddev", {
      when: (spec) => spec.model.initializer.name === "truncated_normal",
    }),
  ],
};

export const TRAINING: SpecSection = {
  title: "Training",
  fields: [
    choice("training.optimizer.name", "Optimizer", [
      ["sgd", "SGD"],
      ["momentum", "SGD with momentum"],
      ["adam", "Adam"],
    ]),
    num("training.optimizer.learningRate", "Learning rate", { step: 0.001 }),
    num("training.optimizer.momentum", "Momentum", {
      step: 0.01,
      when: (spec) => spec.training.optimizer.name === "momentum",
      note: () => `empty: ${DEFAULT_MOMENTUM}`,
    }),
    num("training.epochs", "Epochs"),
    num("training.batchSize", "Batch size"),
    num("training.repeats", "Repeats", { note: () => "seeds differ per repeat" }),
    num("training.seed", "Training seed"),
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
