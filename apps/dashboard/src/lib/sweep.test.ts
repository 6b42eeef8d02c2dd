import { type TExperiment, type TVariantSummary, ZExperimentSpec } from "@actlab/contracts";
import { describe, expect, it } from "vitest";
import { axisCurves, cellOptions, heatColor, heatmapRows, otherCombinations } from "./sweep.js";

const spec = ZExperimentSpec.parse({
  variants: [{ activation: "sigmoid" }, { activation: "relu" }],
  sweep: { "model.hiddenLayers": [1, 4], "training.optimizer.learningRate": [0.01, 0.1] },
});

function entry(
  activation: "sigmoid" | "relu",
  layers: number,
  lr: number,
  acc: number | null,
): TVariantSummary {
  return {
    variant: { activation },
    cell: { "model.hiddenLayers": layers, "training.optimizer.learningRate": lr },
    runs: 2,
    testAccuracy: { mean: acc, std: null, ci95: acc === null ? null : [acc - 0.02, acc + 0.02] },
    testLoss: { mean: null, std: null, ci95: null },
    seconds: { mean: null },
    gradNormRatio: { mean: activation === "sigmoid" ? 10 ** -layers : 0.5 },
  };
}

const exp = {
  spec,
  summary: [
    entry("sigmoid", 1, 0.01, 0.9),
    entry("relu", 1, 0.01, 0.92),
    entry("sigmoid", 1, 0.1, 0.91),
    entry("relu", 1, 0.1, 0.93),
    entry("sigmoid", 4, 0.01, 0.11),
    entry("relu", 4, 0.01, 0.94),
    entry("sigmoid", 4, 0.1, null),
    entry("relu", 4, 0.1, 0.99),
  ],
} as Pick<TExperiment, "spec" | "summary">;

describe("sweep views", () => {
  it("lists the cells with labels and fills the heatmap rows by cell and variant", () => {
    expect(cellOptions(exp).map((c) => c.label)).toEqual([
      "layers=1, lr=0.01",
      "layers=1, lr=0.1",
      "layers=4, lr=0.01",
      "layers=4, lr=0.1",
    ]);
    const rows = heatmapRows(exp, (s) => s.testAccuracy.mean);
    expect(rows.map((r) => r.values)).toEqual([
      [0.9, 0.92],
      [0.91, 0.93],
      [0.11, 0.94],
      [null, 0.99],
    ]);
  });

  it("draws the curve against one axis with its interval, holding the other axes fixed", () => {
    const { xs, curves } = axisCurves(exp, "model.hiddenLayers", "accuracy", {
      "training.optimizer.learningRate": 0.01,
    });
    expect(xs).toEqual([1, 4]);
    expect(curves[0]).toMatchObject({ label: "sigmoid", mean: [0.9, 0.11] });
    expect(curves[0]!.lo[1]).toBeCloseTo(0.09, 10);
    // Clamped to [0, 1].
    const high = axisCurves(exp, "model.hiddenLayers", "accuracy", {
      "training.optimizer.learningRate": 0.1,
    });
    expect(high.curves[1]!.hi[0]).toBeCloseTo(0.95, 12);
    expect(high.curves[1]!.hi[1]).toBe(1);
    expect(high.curves[0]!.mean).toEqual([0.91, null]);
    const grad = axisCurves(exp, "model.hiddenLayers", "gradRatio", {
      "training.optimizer.learningRate": 0.01,
    });
    expect(grad.curves[0]!.mean[1]).toBeCloseTo(1e-4, 12);
    expect(otherCombinations(exp, "model.hiddenLayers")).toEqual([
      { "training.optimizer.learningRate": 0.01 },
      { "training.optimizer.learningRate": 0.1 },
    ]);
  });

  it("colours from dark red to teal, on a log scale for ratios, and leaves unmeasured squares blank", () => {
    expect(heatColor(0.1, 0.1, 1)).toBe("rgb(127, 29, 29)");
    expect(heatColor(1, 0.1, 1)).toBe("rgb(15, 118, 110)");
    expect(heatColor(1e-3, 1e-6, 1, true)).toBe(heatColor(0.5, 0, 1));
    expect(heatColor(null, 0, 1)).toBe("transparent");
  });
});
