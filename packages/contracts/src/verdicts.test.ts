import { describe, expect, it } from "vitest";
import type { TComparison } from "./api.js";
import { comparisonStatement } from "./verdicts.js";

const base: TComparison = {
  cell: { "model.hiddenLayers": 2 },
  a: { activation: "sigmoid" },
  b: { activation: "relu" },
  repeats: 3,
  meanDifference: -0.3015,
  ci95: [-0.3511, -0.2519],
  bootstrapCi95: null,
  pValue: 0.0015,
  wilcoxonPValue: null,
  pAdjusted: 0.07,
  significant: false,
  test: "paired-t",
};

describe("comparisonStatement", () => {
  it("says a gap that Holm's correction does not confirm is a lead, not 'no difference', better variant first", () => {
    expect(comparisonStatement(base)).toBe(
      "relu leads sigmoid, not significant after Holm's correction: +30.15 points, 95% CI +25.19…+35.11, p = 0.0015 (Holm 0.070)",
    );
  });

  it("says 'beats' when the Holm-adjusted p is below 0.05, without rounding 0.0496 up to 0.05", () => {
    expect(comparisonStatement({ ...base, pAdjusted: 0.0496, significant: true })).toBe(
      "relu beats sigmoid: +30.15 points, 95% CI +25.19…+35.11, p = 0.0015 (Holm 0.050)",
    );
  });

  it("says 'do not differ' when even the unadjusted p is 0.05 or more", () => {
    expect(
      comparisonStatement({
        ...base,
        meanDifference: 0.0002,
        ci95: [-0.003, 0.0034],
        pValue: 0.84,
        pAdjusted: 1,
      }),
    ).toBe("sigmoid and relu do not differ: +0.02 points, 95% CI −0.30…+0.34, p = 0.84 (Holm 1.00)");
  });

  it("says why a pair with one shared repeat cannot be tested", () => {
    expect(
      comparisonStatement({
        ...base,
        repeats: 1,
        ci95: null,
        pValue: null,
        pAdjusted: null,
        test: "untestable",
      }),
    ).toBe("sigmoid and relu cannot be tested: 1 shared finished repeat, at least 2 needed (−30.15 points)");
  });
});
