import type { TVariantSummary } from "@actlab/contracts";
import { describe, expect, it } from "vitest";
import { summaryRows, toCsv, toMarkdown } from "./summary.js";

const summary: TVariantSummary[] = [
  {
    variant: { activation: "leaky_relu", alpha: 0.01 },
    cell: {},
    runs: 3,
    testAccuracy: { mean: 0.937, std: 0.004, ci95: [0.927, 0.947] },
    testLoss: { mean: 0.21, std: 0.01, ci95: [0.185, 0.235] },
    seconds: { mean: 12.5 },
    gradNormRatio: { mean: 0.8 },
  },
  {
    variant: { activation: "sigmoid" },
    cell: {},
    runs: 3,
    testAccuracy: { mean: null, std: null, ci95: null },
    testLoss: { mean: null, std: null, ci95: null },
    seconds: { mean: null },
    gradNormRatio: { mean: 0.00012 },
  },
];

describe("summary export", () => {
  it("writes a Markdown table with accuracy in percent and ± std", () => {
    expect(toMarkdown(summaryRows(summary))).toBe(
      `| activation | runs | test accuracy (%) | test loss | time (s) | grad ratio first/last |
| --- | ---: | ---: | ---: | ---: | ---: |
| leaky_relu(alpha=0.01) | 3 | 93.70 ± 0.40 | 0.2100 ± 0.0100 | 12.5 | 0.800 |
| sigmoid | 3 | — | — | — | 1.20e-4 |
`,
    );
  });

  it("writes RFC 4180 CSV with raw fractions and quotes cells with commas", () => {
    expect(toCsv(summaryRows(summary)).split("\r\n")).toEqual([
      "activation,runs,test_accuracy_mean,test_accuracy_std,test_loss_mean,test_loss_std,seconds_mean,grad_norm_ratio_first_last",
      "leaky_relu(alpha=0.01),3,0.937000,0.004000,0.210000,0.010000,12.500,0.8",
      "sigmoid,3,,,,,,0.00012",
      "",
    ]);
    const withComma = toCsv([{ ...summaryRows(summary)[0]!, variant: "rrelu(lower=0.1, upper=0.3)" }]);
    expect(withComma.split("\r\n")[1]!.startsWith('"rrelu(lower=0.1, upper=0.3)",3,')).toBe(true);
  });
});
