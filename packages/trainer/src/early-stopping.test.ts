import { describe, expect, it } from "vitest";
import { shouldStopEarly } from "./early-stopping.js";

const rule = { metric: "testLoss" as const, patience: 2, minDelta: 0.01 };

describe("shouldStopEarly", () => {
  it("never stops without a rule or while the loss improves", () => {
    expect(shouldStopEarly([3, 2, 1, 0.5], null)).toBe(false);
    expect(shouldStopEarly([3, 2, 1, 0.5], rule)).toBe(false);
  });

  it("stops after `patience` epochs without an improvement larger than minDelta", () => {
    expect(shouldStopEarly([1, 0.8, 0.795], rule)).toBe(false);
    // 0.795 and 0.792 improve on 0.8 by less than 0.01: two epochs without progress.
    expect(shouldStopEarly([1, 0.8, 0.795, 0.792], rule)).toBe(true);
    expect(shouldStopEarly([1, 0.8, 0.9, 0.85], rule)).toBe(true);
  });

  it("restarts its count at each real improvement", () => {
    expect(shouldStopEarly([1, 0.8, 0.81, 0.7, 0.71], rule)).toBe(false);
    expect(shouldStopEarly([1, 0.8, 0.81, 0.7, 0.71, 0.72], rule)).toBe(true);
  });
});
