import { LIMITS } from "@actlab/contracts";
import { describe, expect, it } from "vitest";
import { describeBounds } from "./bounds.js";
import { FIELD_BOUNDS, VARIANT_PARAMS } from "./specForm.js";

describe("limits read from the contracts' schemas", () => {
  it("match LIMITS and the defaults", () => {
    expect(FIELD_BOUNDS["training.epochs"]).toMatchObject({
      min: 1,
      max: LIMITS.maxEpochs,
      int: true,
      default: 30,
    });
    expect(FIELD_BOUNDS["model.units"]).toMatchObject({ min: 1, max: LIMITS.maxUnits });
    expect(FIELD_BOUNDS["dataset.samples"]).toMatchObject({ min: LIMITS.minSamples, max: LIMITS.maxSamples });
    expect(FIELD_BOUNDS["elu.alpha"]).toMatchObject({ min: 0, minInclusive: false, max: 10, default: 1 });
  });

  it("know each activation's parameters", () => {
    expect(VARIANT_PARAMS["rrelu"]).toEqual(["lower", "upper"]);
    expect(VARIANT_PARAMS["relu"]).toEqual([]);
  });

  it("describe exclusive and inclusive limits", () => {
    expect(describeBounds(FIELD_BOUNDS["training.epochs"]!)).toBe("1–1,000");
    expect(describeBounds(FIELD_BOUNDS["training.optimizer.learningRate"]!)).toBe("> 0 and ≤ 10");
  });
});
