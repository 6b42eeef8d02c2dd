import type { TMetricsResponse } from "@actlab/contracts";
import { describe, expect, it } from "vitest";
import {
  epochIndex,
  gradNormsByEpoch,
  groupByVariant,
  latestLayerProfile,
  meanSpread,
  std,
  variantColors,
} from "./aggregate.js";

const run = (
  id: string,
  activation: "relu" | "sigmoid",
  repeat: number,
  acc: number[],
  grads: number[][],
) => ({
  id,
  variant: { activation },
  cell: {},
  repeat,
  status: "running" as const,
  series: {
    epoch: acc.map((_, i) => i + 1),
    testAccuracy: acc,
    gradNorms: grads,
    deadFraction: grads.map((g) => g.slice(0, -1).map(() => 0.25 * repeat)),
  },
});

const metrics: TMetricsResponse = {
  runs: [
    run(
      "a",
      "relu",
      0,
      [0.5, 0.7],
      [
        [1, 10],
        [2, 20],
      ],
    ),
    run(
      "b",
      "relu",
      1,
      [0.7, 0.9],
      [
        [4, 10],
        [8, 20],
      ],
    ),
    run("c", "sigmoid", 0, [0.3], [[1e-4, 1]]),
  ],
};

describe("groupByVariant", () => {
  it("keeps the spec's order, appends unknown variants, and gives each its own colour", () => {
    const groups = groupByVariant(metrics, [{ activation: "sigmoid" }, { activation: "tanh" }]);
    expect(groups.map((g) => g.label)).toEqual(["sigmoid", "tanh", "relu"]);
    expect(groups[0]!.runs.map((r) => r.id)).toEqual(["c"]);
    expect(groups[1]!.runs).toEqual([]);
    expect(groups.map((g) => g.color)).toEqual(["#d62728", "#e69f00", "#0072b2"]);
  });

  it("gives a second variant of the same activation a colour of its own", () => {
    const colors = variantColors([
      { activation: "leaky_relu", alpha: 0.01 },
      { activation: "leaky_relu", alpha: 0.3 },
    ]);
    expect(colors[0]).toBe("#009e73");
    expect(colors[1]).not.toBe(colors[0]);
  });
});

describe("meanSpread", () => {
  it("averages repeats per epoch with a ± std band and leaves missing epochs empty", () => {
    const relu = metrics.runs.filter((r) => r.variant.activation === "relu");
    const s = meanSpread(relu, "testAccuracy", 3);
    expect(s.mean[0]).toBeCloseTo(0.6);
    expect(s.mean[1]).toBeCloseTo(0.8);
    expect(s.mean[2]).toBeNull();
    expect(s.hi[0]! - s.lo[0]!).toBeCloseTo(2 * std([0.5, 0.7])!);
    expect(s.points).toBe(2);
  });

  it("takes each epoch's mean over the repeats that have reached it while others still train", () => {
    const ahead = run("a", "relu", 0, [0.2, 0.4, 0.6], [[1], [1], [1]]);
    const behind = run("b", "relu", 1, [0.4], [[1]]);
    const s = meanSpread([ahead, behind], "testAccuracy", 3);
    expect(s.n).toEqual([2, 1, 1]);
    expect(s.mean[0]).toBeCloseTo(0.3);
    // Epochs only the first repeat reached are its own values, not pulled down by a missing one.
    expect(s.mean.slice(1)).toEqual([0.4, 0.6]);
  });

  it("clamps the band into [0,1] for accuracies", () => {
    const s = meanSpread(
      [run("x", "relu", 0, [0.99], [[1]]), run("y", "relu", 1, [0.5], [[1]])],
      "testAccuracy",
      1,
      [0, 1],
    );
    expect(s.hi[0]).toBe(1);
  });
});

describe("gradient profiles", () => {
  it("uses the geometric mean over repeats, layer by layer", () => {
    const relu = metrics.runs.filter((r) => r.variant.activation === "relu");
    const byEpoch = gradNormsByEpoch(relu, 2);
    expect(byEpoch[0]![0]).toBeCloseTo(2); // epoch 1: sqrt(1·4)
    expect(byEpoch[0]![1]).toBeCloseTo(4); // epoch 2: sqrt(2·8)
    const profile = latestLayerProfile(relu, "gradNorms");
    expect(profile[0]).toBeCloseTo(4);
    expect(profile[1]).toBeCloseTo(20);
  });

  it("averages fractions arithmetically at each run's latest epoch", () => {
    const relu = metrics.runs.filter((r) => r.variant.activation === "relu");
    expect(latestLayerProfile(relu, "deadFraction")).toEqual([0.125]);
  });
});

describe("epochIndex", () => {
  it("finds epochs in order directly and out-of-order ones by search", () => {
    const inOrder = run("a", "relu", 0, [0.1, 0.2, 0.3], [[1], [1], [1]]);
    expect(epochIndex(inOrder, 3)).toBe(2);
    const gappy = { ...inOrder, series: { ...inOrder.series, epoch: [2, 3, 5] } };
    expect(epochIndex(gappy, 5)).toBe(2);
    expect(epochIndex(gappy, 1)).toBe(-1);
  });
});
