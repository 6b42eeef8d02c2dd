import binomialTest from "@stdlib/stats-binomial-test";
import { oneSampleT } from "./student-t.js";

export type Interval = [number, number];

/** Mean, sample standard deviation and the 95% t interval of the mean of repeated measurements. */
export interface Spread {
  n: number;
  mean: number | null;
  /** Sample standard deviation (n − 1); null below two values. */
  std: number | null;
  /** Student-t 95% interval of the mean; null below two values. */
  ci95: Interval | null;
}

export function describeSample(values: readonly number[]): Spread {
  const n = values.length;
  if (n === 0) return { n, mean: null, std: null, ci95: null };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n === 1) return { n, mean, std: null, ci95: null };
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  // All repeats equal: the t interval degenerates to the point itself (stdlib answers NaN).
  if (std === 0) return { n, mean, std, ci95: [mean, mean] };
  const { ci } = oneSampleT(values);
  return { n, mean, std, ci95: [ci[0] as number, ci[1] as number] };
}

/**
 * The exact (Clopper–Pearson) 95% interval of an accuracy measured on `total` test examples:
 * what a single run's accuracy is known to, before any spread over repeats.
 */
export function binomialInterval95(accuracy: number, total: number): Interval | null {
  if (!Number.isInteger(total) || total <= 0 || !(accuracy >= 0 && accuracy <= 1)) return null;
  const correct = Math.round(accuracy * total);
  const { ci } = binomialTest(correct, total);
  return [ci[0] as number, ci[1] as number];
}
