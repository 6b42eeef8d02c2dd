import type uPlot from "uplot";
import { describe, expect, it } from "vitest";
import { stepTicks } from "./options.js";

const u = {} as uPlot;

describe("tick labels", () => {
  it("give small slopes the decimals their spacing needs", () => {
    expect(stepTicks(u, [0, 0.0004, 0.0008, 0.0012])).toEqual(["0", "0.0004", "0.0008", "0.0012"]);
    expect(stepTicks(u, [0.001, 0.0015, 0.002])).toEqual(["0.0010", "0.0015", "0.0020"]);
    expect(stepTicks(u, [0, 0.1, 0.2])).toEqual(["0", "0.1", "0.2"]);
    expect(stepTicks(u, [0, 5, 10])).toEqual(["0", "5", "10"]);
    // Distinct ticks never print the same label.
    const labels = stepTicks(u, [0.00011, 0.00012, 0.00013]);
    expect(new Set(labels).size).toBe(3);
  });
});
