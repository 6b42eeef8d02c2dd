import { stringify } from "csv-stringify/browser/esm/sync";

/*
 * What the chart controls compute, kept pure so they are unit-tested: exponential smoothing of
 * a curve, and a chart's own data as CSV (the same library and dialect as the API's metrics.csv).
 */

/**
 * Exponential moving average with TensorBoard's bias correction (its "smoothing" slider): weight
 * `smoothing` in [0, 1) on the past, so 0 is the raw curve. Gaps (null) stay gaps and do not
 * reset the average; the first values are not pulled towards 0 (debiased).
 */
export function ema(values: readonly (number | null)[], smoothing: number): (number | null)[] {
  if (!(smoothing > 0)) return [...values];
  let last = 0;
  let steps = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    last = last * smoothing + (1 - smoothing) * v;
    steps++;
    return last / (1 - smoothing ** steps);
  });
}

/** A chart's columns as RFC 4180 CSV: a header of labels, one row per x value, empty where null. */
export function chartCsv(
  labels: readonly string[],
  columns: readonly (readonly (number | null | undefined)[])[],
): string {
  const rows = (columns[0] ?? []).map((_, i) =>
    columns.map((c) => {
      const v = c[i];
      return v === null || v === undefined || !Number.isFinite(v) ? "" : v;
    }),
  );
  return stringify([labels, ...rows], { record_delimiter: "windows" });
}
