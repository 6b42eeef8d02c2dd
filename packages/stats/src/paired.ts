import mt19937 from "@stdlib/random-base-mt19937";
import padjust from "@stdlib/stats-padjust";
import wilcoxon from "@stdlib/stats-wilcoxon";
import type { Interval } from "./spread.js";
import { oneSampleT } from "./student-t.js";

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
    : oneSampleT(diffs);
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

/** Repeats up to which the bootstrap is computed exactly instead of sampled (C(13, 7) = 1,716 resamples at 7). */
export const EXACT_BOOTSTRAP_MAX = 7;

/**
 * Percentile bootstrap of the mean: resample the values with replacement, take the 2.5/97.5
 * percentiles. With at most EXACT_BOOTSTRAP_MAX values there are few distinct resamples, so their
 * whole distribution is enumerated (what sampling converges to, and ~1,000× cheaper for the usual
 * 3 repeats: an experiment of 2,000 runs has ~1,000 comparisons). @stdlib has no bootstrap, so
 * both ways are written here.
 */
export function bootstrapMeanInterval(values: readonly number[], resamples: number, seed: number): Interval {
  if (values.length <= EXACT_BOOTSTRAP_MAX) return exactBootstrapInterval(values);
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

/**
 * The exact bootstrap distribution of the mean: every multiset of n draws (counts c_i summing to
 * n) has probability n! / (∏ c_i! · n^n); the interval is its 2.5% and 97.5% quantiles (inverse CDF).
 */
function exactBootstrapInterval(values: readonly number[]): Interval {
  const n = values.length;
  const { counts, p } = resamplesOf(n);
  const means = new Float64Array(p.length);
  for (let k = 0; k < p.length; k++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += (counts[k * n + i] as number) * (values[i] as number);
    means[k] = sum / n;
  }
  const order = Array.from(p, (_, k) => k).sort((x, y) => (means[x] as number) - (means[y] as number));
  const at = (q: number) => {
    let cdf = 0;
    for (const k of order) {
      cdf += p[k] as number;
      if (cdf >= q - 1e-12) return means[k] as number;
    }
    return means[order.at(-1) as number] as number;
  };
  return [at(0.025), at(0.975)];
}

/**
 * The distinct resamples of n values — count vectors, n per resample, flat — with their
 * probabilities. They depend on n alone, and an experiment compares ~1,000 pairs at the same
 * few n, so each n's are enumerated once.
 */
const resamples = new Map<number, { counts: Int32Array; p: Float64Array }>();
function resamplesOf(n: number): { counts: Int32Array; p: Float64Array } {
  const known = resamples.get(n);
  if (known) return known;
  const factorial = [1];
  for (let k = 1; k <= n; k++) factorial.push((factorial[k - 1] as number) * k);
  const total = n ** n;
  const counts: number[] = [];
  const p: number[] = [];
  const current = new Array<number>(n).fill(0);
  const walk = (i: number, left: number, ways: number) => {
    if (i === n - 1) {
      current[i] = left;
      counts.push(...current);
      p.push(ways / (factorial[left] as number) / total);
      return;
    }
    for (let c = 0; c <= left; c++) {
      current[i] = c;
      walk(i + 1, left - c, ways / (factorial[c] as number));
    }
  };
  walk(0, n, factorial[n] as number);
  const out = { counts: Int32Array.from(counts), p: Float64Array.from(p) };
  resamples.set(n, out);
  return out;
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
