import { describe, expect, it } from "vitest";
import {
  binomialInterval95,
  bootstrapMeanInterval,
  comparePaired,
  describeSample,
  holmAdjust,
} from "./index.js";

// Reference figures computed with SciPy 1.17.1 (stats.ttest_rel, ttest_1samp(...).confidence_interval(),
// wilcoxon(method="exact"), bootstrap(method="percentile", n_resamples=20000),
// binomtest(...).proportion_ci(method="exact")) and Holm's procedure, typed in here.
const FIVE = {
  a: [0.912, 0.905, 0.921, 0.899, 0.915],
  b: [0.884, 0.89, 0.902, 0.871, 0.893],
};
const THREE = { a: [0.881, 0.879, 0.885], b: [0.88, 0.882, 0.884] };
const EIGHT = {
  a: [0.9115, 0.902, 0.919, 0.8985, 0.915, 0.9075, 0.9105, 0.9005],
  b: [0.904, 0.9035, 0.911, 0.889, 0.9095, 0.901, 0.9, 0.8975],
};

describe("describeSample", () => {
  it("gives the mean, the sample standard deviation and the t interval SciPy gives", () => {
    const s = describeSample(FIVE.a);
    expect(s.n).toBe(5);
    expect(s.mean).toBeCloseTo(0.9104, 12);
    expect(s.std).toBeCloseTo(0.00859069263796582, 12);
    expect(s.ci95?.[0]).toBeCloseTo(0.899733246231804, 10);
    expect(s.ci95?.[1]).toBeCloseTo(0.921066753768196, 10);
  });

  it("has no spread or interval for fewer than two values, and a point interval for equal ones", () => {
    expect(describeSample([])).toEqual({ n: 0, mean: null, std: null, ci95: null });
    expect(describeSample([0.5])).toEqual({ n: 1, mean: 0.5, std: null, ci95: null });
    expect(describeSample([0.25, 0.25, 0.25])).toEqual({ n: 3, mean: 0.25, std: 0, ci95: [0.25, 0.25] });
  });
});

describe("binomialInterval95", () => {
  it("is the exact Clopper–Pearson interval of the test set", () => {
    const ci = binomialInterval95(0.975, 2000);
    expect(ci?.[0]).toBeCloseTo(0.9671722288509416, 9);
    expect(ci?.[1]).toBeCloseTo(0.9813888943241313, 9);
    const zero = binomialInterval95(0, 2000);
    expect(zero?.[0]).toBe(0);
    expect(zero?.[1]).toBeCloseTo(0.0018427397936931899, 9);
  });

  it("refuses an empty test set or an accuracy outside [0, 1]", () => {
    expect(binomialInterval95(0.5, 0)).toBeNull();
    expect(binomialInterval95(1.5, 100)).toBeNull();
  });
});

describe("comparePaired", () => {
  it("matches SciPy's paired t-test, its interval and a percentile bootstrap (5 repeats)", () => {
    const c = comparePaired(FIVE.a, FIVE.b);
    expect(c.test).toBe("paired-t");
    expect(c.n).toBe(5);
    expect(c.meanDifference).toBeCloseTo(0.0224, 12);
    expect(c.pValue).toBeCloseTo(0.000914614718611808, 10);
    expect(c.ci95?.[0]).toBeCloseTo(0.0153432399539688, 10);
    expect(c.ci95?.[1]).toBeCloseTo(0.0294567600460312, 10);
    // Resampling differs between implementations; 10,000 resamples agree to about a tenth of a point.
    expect(Math.abs((c.bootstrapCi95?.[0] ?? 0) - 0.018)).toBeLessThan(0.001);
    expect(Math.abs((c.bootstrapCi95?.[1] ?? 0) - 0.0268)).toBeLessThan(0.001);
    expect(c.wilcoxonPValue).toBeNull();
  });

  it("finds no difference where there is none (3 repeats, p = 0.83)", () => {
    const c = comparePaired(THREE.a, THREE.b);
    expect(c.pValue).toBeCloseTo(0.825922344044302, 10);
    expect(c.ci95?.[0]).toBeCloseTo(-0.00607020363966596, 10);
    expect(c.ci95?.[1]).toBeCloseTo(0.00540353697299929, 10);
  });

  it("adds the exact Wilcoxon signed-rank p from six repeats on (8 repeats)", () => {
    const c = comparePaired(EIGHT.a, EIGHT.b);
    expect(c.pValue).toBeCloseTo(0.00284420392923222, 10);
    expect(c.wilcoxonPValue).toBeCloseTo(0.015625, 10);
  });

  it("is deterministic: the same data gives the same bootstrap interval", () => {
    expect(comparePaired(FIVE.a, FIVE.b).bootstrapCi95).toEqual(comparePaired(FIVE.a, FIVE.b).bootstrapCi95);
  });

  it("computes small bootstraps exactly: the distribution of every resample, worked by hand", () => {
    // Sums of 3 draws from {0, 1, 2}: 0…6 with weights 1, 3, 6, 7, 6, 3, 1 of 27; 1/27 > 2.5%
    // puts the lower bound on mean 0, and 26/27 < 97.5% the upper one on mean 2.
    expect(bootstrapMeanInterval([0, 1, 2], 10_000, 1)).toEqual([0, 2]);
    // {0, 0, 0, 3}: mean 0 has (3/4)^4 = 31.6%, mean 3 has (1/4)^4 = 0.39% < 2.5% → upper is 2.25.
    expect(bootstrapMeanInterval([0, 0, 0, 3], 10_000, 1)).toEqual([0, 2.25]);
    // Above EXACT_BOOTSTRAP_MAX values it samples: numpy, 200,000 resamples, gives [0.3, 0.6625].
    const eight = [0.1, 0.4, 0.2, 0.9, 0.5, 0.3, 0.8, 0.6];
    const [lo, hi] = bootstrapMeanInterval(eight, 20_000, 1);
    expect(Math.abs(lo - 0.3)).toBeLessThan(0.01);
    expect(Math.abs(hi - 0.6625)).toBeLessThan(0.01);
  });

  it("says a pair with fewer than two shared repeats cannot be tested", () => {
    expect(comparePaired([0.9], [0.8])).toMatchObject({
      n: 1,
      test: "untestable",
      pValue: null,
      ci95: null,
      bootstrapCi95: null,
    });
    expect(comparePaired([0.9], [0.8]).meanDifference).toBeCloseTo(0.1, 12);
  });

  it("treats identical differences as certain and identical results as no difference", () => {
    expect(comparePaired([0.9, 0.8], [0.9, 0.8]).pValue).toBe(1);
    expect(comparePaired([0.9, 0.8], [0.8, 0.7]).pValue).toBe(0);
  });

  it("refuses samples of different lengths", () => {
    expect(() => comparePaired([1, 2], [1])).toThrow(RangeError);
  });
});

describe("holmAdjust", () => {
  it("is Holm's step-down adjustment, leaving untestable pairs null", () => {
    const adjusted = holmAdjust([0.01, 0.04, null, 0.03, 0.2, 0.005]);
    const expected = [0.04, 0.09, null, 0.09, 0.2, 0.025];
    adjusted.forEach((p, i) => {
      if (expected[i] === null) expect(p).toBeNull();
      else expect(p).toBeCloseTo(expected[i] as number, 12);
    });
    expect(holmAdjust([null])).toEqual([null]);
  });
});
