import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { chartCsv, ema } from "./chartData.js";

describe("ema", () => {
  it("is the raw curve at 0 and TensorBoard's debiased average otherwise", () => {
    expect(ema([1, 2, 3], 0)).toEqual([1, 2, 3]);
    const s = ema([1, 3], 0.5);
    // debiased: the first value is itself, not pulled towards 0
    expect(s[0]).toBeCloseTo(1);
    // (0.5·(0.5·0 + 0.5·1) + 0.5·3) / (1 − 0.25) = 1.75 / 0.75
    expect(s[1]).toBeCloseTo(1.75 / 0.75);
  });

  it("keeps gaps as gaps without resetting the average", () => {
    const s = ema([2, null, 2], 0.9);
    expect(s[1]).toBeNull();
    expect(s[0]).toBeCloseTo(2);
    expect(s[2]).toBeCloseTo(2);
  });

  it("smooths a noisy curve: less variation, same level", () => {
    const noisy = Array.from({ length: 200 }, (_, i) => 1 + (i % 2 ? 0.5 : -0.5));
    const s = ema(noisy, 0.9).slice(50) as number[];
    expect(Math.max(...s) - Math.min(...s)).toBeLessThan(0.2);
    expect(s.reduce((a, b) => a + b, 0) / s.length).toBeCloseTo(1, 1);
  });
});

describe("chartCsv", () => {
  it("writes RFC 4180 rows: a header of labels, empty cells for gaps, quoted labels with commas", () => {
    const csv = chartCsv(
      ["epoch", "rrelu(lower=0.1, upper=0.3)", "relu"],
      [
        [1, 2],
        [0.5, null],
        [0.25, Number.NaN],
      ],
    );
    expect(csv).toBe('epoch,"rrelu(lower=0.1, upper=0.3)",relu\r\n1,0.5,0.25\r\n2,,\r\n');
    expect(parse(csv)).toEqual([
      ["epoch", "rrelu(lower=0.1, upper=0.3)", "relu"],
      ["1", "0.5", "0.25"],
      ["2", "", ""],
    ]);
  });
});
