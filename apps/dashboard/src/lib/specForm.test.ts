import { describe, expect, it } from "vitest";
import { blankSpec, setPath, validateSpec } from "./specForm.js";

describe("the form's own messages", () => {
  it("say the limit in words and units, not the validator's wording", () => {
    const errors = validateSpec(setPath(setPath(blankSpec(), "model.units", 5000), "training.epochs", 0));
    expect(errors["model.units"]).toEqual(["at most 1,024 units per layer"]);
    expect(errors["training.epochs"]).toEqual(["at least 1 epoch"]);
    expect(JSON.stringify(errors)).not.toMatch(/Too (big|small)|expected/);
  });

  it("check the samples against the dataset this install has", () => {
    const datasets = [{ name: "mnist", available: true, samples: 10_000 }];
    const spec = setPath(blankSpec(), "dataset.samples", 20_000);
    expect(validateSpec(spec, datasets)["dataset.samples"]).toEqual([
      "at most 10,000: this install's mnist has 10,000 samples",
    ]);
    expect(validateSpec(setPath(blankSpec(), "dataset.samples", 10_000), datasets)).toEqual({});
  });
});
