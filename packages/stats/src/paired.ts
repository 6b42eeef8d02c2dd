import mt19937 from "@stdlib/random-base-mt19937";
import padjust from "@stdlib/stats-padjust";
import ttest from "@stdlib/stats-ttest";
import wilcoxon from "@stdlib/stats-wilcoxon";
import type { Interval } from "./spread.js";

/** Repeats at or above which the Wilcoxon signed-rank test is reported beside the t-test. */
export const WILCOXON_MIN_PAIRS = 6;
export const BOOTSTRAP_RESAMPLES = 10_000;

/**
 * Two variants measured on the same seeds: `a[i]` and `b[i]` share repeat i's initial weights,
 * batch order and split, so the test is on the per-repeat differences a[i] − b[i].
 */
export interface PairedComparison {
  /** Shared repeats compared. */
  n: number;
  /** "paired-t" when n ≥ 2, else "untestable" (every figure below but meanDifference is null). */
  test: "paired-t" | "untestable";
  meanDifference: number | null;
  /** Paired-t 95% interval of the mean difference. */
  ci95: Interval | null;
  /** Percentile bootstrap over repeats (seeded, so the same data always gives the same interval). */
  bootstrapCi95: Interval | null;
  /** Two-sided paired t-test. */
  pValue: number | null;
  /** Two-sided Wilcoxon signed-rank test, from WILCOXON_MIN_PAIRS repeats on. */
  wilcoxonPValue: number | null;
}

/**
 * Differences computed from accuracies like 0.9115 − 0.9040 carry float noise in the 1e-17s, so
 * equal differences would rank as different; rounding to 12 places makes ties ties again.
 */
const tidy = (x: number) => Math.round(x * 1e12) / 1e12;

export function comparePaired(
  a: readonly number[],
  b: readonly number[],
  opts: { resamples?: number; seed?: number } = {},
): PairedComparison {
  if (a.length !== b.length)
    throw new RangeError(`paired samples differ in length (${a.length} vs ${b.length})`);
  const n = a.length;
  const diffs = a.map((x, i) => tidy(x - (b[i] as number)));
  const meanDifference = n ? diffs.reduce((s, d) => s + d, 0) / n : null;
  if (n < 2 || meanDifference === null) {
    return {
      n,
      test: "untestable",
      meanDifference,
      ci95: null,
      bootstrapCi95: null,
      pValue: null,
      wilcoxonPValue: null,
    };
  }
  const constant = diffs.every((d) => d === diffs[0]);
  // Every repeat differs by the same amount: no spread, so either no difference at all (p = 1)
  // or a difference with no doubt about it (p = 0); stdlib answers NaN here.
  const t = constant
    ? { pValue: meanDifference === 0 ? 1 : 0, ci: [meanDifference, meanDifference] }
    : ttest(diffs);
  let wilcoxonPValue: number | null = null;
  if (n >= WILCOXON_MIN_PAIRS) {
    wilcoxonPValue = diffs.every((d) => d === 0) ? 1 : wilcoxon(diffs, { zeroMethod: "wilcox" }).pValue;
  }
  return {
    n,
    test: "paired-t",
    meanDifference,
    ci95: [t.ci[0] as number, t.ci[1] as number],
    bootstrapCi95: bootstrapMeanInterval(diffs, opts.resamples ?? BOOTSTRAP_RESAMPLES, opts.seed ?? 1),
    pValue: t.pValue,
    wilcoxonPValue,
  };
}

/** Percentile bootstrap of the mean: resample the values with replacement, take the 2.5/97.5 percentiles. */
export function bootstrapMeanInterval(values: readonly number[], resamples: number, seed: number): Interval {
  const rand = mt19937.factory({ seed });
  const n = values.length;
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[rand() % n] as number;
    means[r] = sum / n;
  }
  means.sort();
  return [quantile(means, 0.025), quantile(means, 0.975)];
}

/** Linear interpolation between order statistics (numpy's default, which scipy's bootstrap uses). */
function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

/** Holm's step-down adjustment over every p-value of an experiment; nulls (untestable pairs) stay null. */
export function holmAdjust(pValues: readonly (number | null)[]): (number | null)[] {
  const present = pValues.flatMap((p, i) => (p === null ? [] : [{ p, i }]));
  const out: (number | null)[] = pValues.map(() => null);
  if (!present.length) return out;
  const adjusted = padjust(
    present.map((x) => x.p),
    "holm",
  );
  present.forEach(({ i }, k) => {
    out[i] = adjusted[k] as number;
  });
  return out;
}
