import {
  cellKey,
  cellLabel,
  sweepCells,
  type TCell,
  type TExperiment,
  type TMetricsResponse,
  type TSweepPath,
  type TVariantSummary,
  variantLabel,
} from "@actlab/contracts";

/*
 * What the sweep views draw, from the experiment's summary (one entry per cell × variant): the
 * cells, a heatmap's rows, and curves of accuracy and gradient ratio against one swept axis.
 * Pure functions, unit-tested; the chart components only draw them.
 */

export interface CellOption {
  key: string;
  label: string;
  cell: TCell;
}

/** The experiment's cells in sweep order, each with a key for maps and a label for people. */
export function cellOptions(exp: Pick<TExperiment, "spec">): CellOption[] {
  return sweepCells(exp.spec).map((cell) => ({
    key: cellKey(cell),
    label: cellLabel(cell) || "all runs",
    cell,
  }));
}

/** The swept paths of an experiment, in sweep order. */
export function sweptPaths(exp: Pick<TExperiment, "spec">): TSweepPath[] {
  return (Object.keys(exp.spec.sweep) as TSweepPath[]).filter((p) => exp.spec.sweep[p]?.length);
}

/** Only the runs of one cell (all runs when `key` is null). */
export function metricsOfCell(
  metrics: TMetricsResponse | undefined,
  key: string | null,
): TMetricsResponse | undefined {
  if (!metrics || key === null) return metrics;
  return { runs: metrics.runs.filter((r) => cellKey(r.cell) === key) };
}

export function summaryOfCell(summary: readonly TVariantSummary[], key: string): TVariantSummary[] {
  return summary.filter((s) => cellKey(s.cell) === key);
}

/** One heatmap row per cell: each variant's value (null until measured). */
export function heatmapRows(
  exp: Pick<TExperiment, "spec" | "summary">,
  value: (s: TVariantSummary) => number | null,
): { cell: CellOption; values: (number | null)[] }[] {
  const byKey = new Map(exp.summary.map((s) => [`${cellKey(s.cell)}|${variantLabel(s.variant)}`, s]));
  return cellOptions(exp).map((cell) => ({
    cell,
    values: exp.spec.variants.map((v) => {
      const s = byKey.get(`${cell.key}|${variantLabel(v)}`);
      return s ? value(s) : null;
    }),
  }));
}

/**
 * A colour for a value between lo and hi (clamped): from a dark red through amber to a teal, so
 * "fails" and "works" read apart for colour-blind eyes too. `log` maps on log10 (gradient ratios
 * span decades).
 */
export function heatColor(value: number | null, lo: number, hi: number, log = false): string {
  if (value === null || !Number.isFinite(value) || (log && value <= 0)) return "transparent";
  const f = (x: number) => (log ? Math.log10(x) : x);
  const t = Math.min(1, Math.max(0, (f(value) - f(lo)) / (f(hi) - f(lo) || 1)));
  // Three stops: #7f1d1d → #d97706 → #0f766e.
  const stops = [
    [127, 29, 29],
    [217, 119, 6],
    [15, 118, 110],
  ] as const;
  const [a, b, u] = t < 0.5 ? [stops[0], stops[1], t * 2] : [stops[1], stops[2], (t - 0.5) * 2];
  const mix = (i: number) => Math.round(a[i]! + (b[i]! - a[i]!) * u);
  return `rgb(${mix(0)}, ${mix(1)}, ${mix(2)})`;
}

export interface AxisCurve {
  label: string;
  /** Per x value: the mean, and the interval's edges (null where unmeasured). */
  mean: (number | null)[];
  lo: (number | null)[];
  hi: (number | null)[];
}

/**
 * Curves against one numeric swept axis (e.g. model.hiddenLayers), one per variant, over the
 * cells that match `fixed` on the other axes: accuracy with its 95% interval, or the mean
 * gradient ratio (no interval).
 */
export function axisCurves(
  exp: Pick<TExperiment, "spec" | "summary">,
  path: TSweepPath,
  metric: "accuracy" | "gradRatio",
  fixed: TCell = {},
): { xs: number[]; curves: AxisCurve[] } {
  const xs = [...((exp.spec.sweep[path] as number[] | undefined) ?? [])];
  const matches = (cell: TCell) =>
    Object.entries(fixed).every(([k, v]) => cellKey({ v: cell[k] }) === cellKey({ v }));
  const curves = exp.spec.variants.map((variant) => {
    const label = variantLabel(variant);
    const mine = exp.summary.filter((s) => variantLabel(s.variant) === label && matches(s.cell));
    const at = (x: number) => mine.find((s) => s.cell[path] === x);
    const pick = (f: (s: TVariantSummary) => number | null) =>
      xs.map((x) => {
        const s = at(x);
        return s ? f(s) : null;
      });
    return metric === "accuracy"
      ? {
          label,
          mean: pick((s) => s.testAccuracy.mean),
          lo: pick((s) => (s.testAccuracy.ci95 ? Math.max(0, s.testAccuracy.ci95[0] ?? 0) : null)),
          hi: pick((s) => (s.testAccuracy.ci95 ? Math.min(1, s.testAccuracy.ci95[1] ?? 1) : null)),
        }
      : { label, mean: pick((s) => s.gradNormRatio.mean), lo: xs.map(() => null), hi: xs.map(() => null) };
  });
  return { xs, curves };
}

/** The combinations of every swept axis but `path`: one small multiple each. */
export function otherCombinations(exp: Pick<TExperiment, "spec">, path: TSweepPath): TCell[] {
  const seen = new Map<string, TCell>();
  for (const cell of sweepCells(exp.spec)) {
    const { [path]: _x, ...rest } = cell;
    seen.set(cellKey(rest), rest);
  }
  return [...seen.values()];
}
