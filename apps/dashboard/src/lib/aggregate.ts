import type { TMetricsResponse, TVariant } from "@actlab/contracts";
import { variantLabel } from "@actlab/contracts";

/*
 * Turns the columnar per-run metrics into what the charts draw: one group per variant (in the
 * spec's order), the mean over repeats per epoch and its spread, per-layer gradient profiles.
 * Pure functions, unit-tested; the chart components only map these onto uPlot.
 */

export type TMetricsRun = TMetricsResponse["runs"][number];
export type ScalarField = "testAccuracy" | "testLoss" | "trainAccuracy" | "trainLoss";
export type LayerField = "gradNorms" | "deadFraction" | "saturatedFraction" | "preluAlphaMean";

/** Colour-blind-friendly palette (Okabe–Ito, then Tableau); variant i keeps colour i everywhere. */
export const PALETTE = [
  "#d55e00",
  "#e69f00",
  "#0072b2",
  "#009e73",
  "#cc79a7",
  "#56b4e9",
  "#8c564b",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
  "#1f3a93",
  "#9467bd",
  "#2ca02c",
  "#d62728",
  "#ff7f0e",
  "#393b79",
];

/**
 * One fixed colour per activation, so sigmoid is the same red on every chart and every page;
 * a second variant of the same activation (say two LeakyReLU slopes) takes an unused colour.
 */
export const ACTIVATION_COLORS: Record<string, string> = {
  sigmoid: "#d62728",
  tanh: "#e69f00",
  relu: "#0072b2",
  leaky_relu: "#009e73",
  prelu: "#cc79a7",
  rrelu: "#56b4e9",
  elu: "#8c564b",
  selu: "#7f7f7f",
  gelu: "#bcbd22",
  silu: "#17becf",
  softplus: "#9467bd",
  mish: "#1f3a93",
  linear: "#393b79",
};

export function variantColors(variants: readonly TVariant[]): string[] {
  const used = new Set<string>();
  return variants.map((v) => {
    const own = ACTIVATION_COLORS[v.activation];
    const color =
      own && !used.has(own)
        ? own
        : (PALETTE.find((c) => !used.has(c)) ?? PALETTE[used.size % PALETTE.length]!);
    used.add(color);
    return color;
  });
}

/** Variant label → its colour, for tables that double as the charts' legend. */
export function colorsByLabel(variants: readonly TVariant[]): Record<string, string> {
  const colors = variantColors(variants);
  return Object.fromEntries(variants.map((v, i) => [variantLabel(v), colors[i]!]));
}

export interface VariantGroup {
  variant: TVariant;
  label: string;
  color: string;
  runs: TMetricsRun[];
  /** A dash pattern (the compare page draws each experiment in its own). */
  dash?: number[];
}

export function groupByVariant(metrics: TMetricsResponse, variants: readonly TVariant[]): VariantGroup[] {
  const all = [...variants];
  for (const r of metrics.runs) {
    if (!all.some((v) => variantLabel(v) === variantLabel(r.variant))) all.push(r.variant);
  }
  const colors = variantColors(all);
  return all.map((variant, i) => {
    const label = variantLabel(variant);
    return {
      variant,
      label,
      color: colors[i]!,
      runs: metrics.runs.filter((r) => variantLabel(r.variant) === label).sort((a, b) => a.repeat - b.repeat),
    };
  });
}

export function mean(xs: readonly number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** Sample standard deviation (n − 1); 0 for a single value. */
export function std(xs: readonly number[]): number | null {
  const m = mean(xs);
  if (m === null) return null;
  if (xs.length < 2) return 0;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

function geoMean(xs: readonly number[]): number | null {
  const pos = xs.filter((x) => x > 0 && Number.isFinite(x));
  if (!pos.length) return null;
  return Math.exp(pos.reduce((a, b) => a + Math.log(b), 0) / pos.length);
}

export function maxEpoch(runs: readonly TMetricsRun[]): number {
  let m = 0;
  for (const r of runs) for (const e of r.series.epoch) m = Math.max(m, e);
  return m;
}

export const epochAxis = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/**
 * Position of an epoch in a run's columns. The API sends epochs 1..n in order, so epoch e is
 * almost always at e − 1; the search is only a fallback (keeps long runs O(epochs), not O(epochs²)).
 */
export function epochIndex(run: TMetricsRun, epoch: number): number {
  const epochs = run.series.epoch;
  return epochs[epoch - 1] === epoch ? epoch - 1 : epochs.indexOf(epoch);
}

function valueAt(run: TMetricsRun, field: ScalarField, epoch: number): number | undefined {
  const i = epochIndex(run, epoch);
  if (i < 0) return undefined;
  const v = run.series[field]?.[i];
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

export interface Spread {
  mean: (number | null)[];
  lo: (number | null)[];
  hi: (number | null)[];
  /** Data points drawn (epochs with a value) — the e2e test and empty states read it. */
  points: number;
  /** Per epoch: how many runs the mean is over (those that have reached it). */
  n: number[];
}

/**
 * Mean over repeats per epoch (1..epochs) and a band of ± one standard deviation. Each epoch's
 * mean is over the runs that have reached it (`n`): while repeats still train, a repeat that runs
 * ahead carries the later epochs alone, and the chart says so on hover ("1 of 3 runs").
 */
export function meanSpread(
  runs: readonly TMetricsRun[],
  field: ScalarField,
  epochs: number,
  clamp?: [number, number],
): Spread {
  const out: Spread = { mean: [], lo: [], hi: [], points: 0, n: [] };
  const fit = (v: number) => (clamp ? Math.min(clamp[1], Math.max(clamp[0], v)) : v);
  for (let e = 1; e <= epochs; e++) {
    const vals = runs.map((r) => valueAt(r, field, e)).filter((v): v is number => v !== undefined);
    const m = mean(vals);
    const s = std(vals);
    out.n.push(vals.length);
    if (m === null || s === null) {
      out.mean.push(null);
      out.lo.push(null);
      out.hi.push(null);
    } else {
      out.points++;
      out.mean.push(m);
      out.lo.push(fit(m - s));
      out.hi.push(fit(m + s));
    }
  }
  return out;
}

export function layerCount(runs: readonly TMetricsRun[], field: LayerField): number {
  let n = 0;
  for (const r of runs) for (const row of r.series[field] ?? []) n = Math.max(n, row.length);
  return n;
}

/**
 * Gradient norm of each layer per epoch for one variant: geometric mean over repeats, because
 * norms span orders of magnitude and are drawn on a log scale. Result: [layer][epoch-1].
 */
export function gradNormsByEpoch(runs: readonly TMetricsRun[], epochs: number): (number | null)[][] {
  const layers = layerCount(runs, "gradNorms");
  const out: (number | null)[][] = Array.from({ length: layers }, () => []);
  for (let e = 1; e <= epochs; e++) {
    for (let l = 0; l < layers; l++) {
      const vals: number[] = [];
      for (const r of runs) {
        const i = epochIndex(r, e);
        const v = i >= 0 ? r.series.gradNorms?.[i]?.[l] : undefined;
        if (v !== undefined) vals.push(v);
      }
      out[l]!.push(geoMean(vals));
    }
  }
  return out;
}

/**
 * Per-layer profile at each run's latest epoch, averaged over repeats (geometric mean for
 * gradient norms, arithmetic for fractions). Index = layer, input side first.
 */
export function latestLayerProfile(runs: readonly TMetricsRun[], field: LayerField): (number | null)[] {
  const layers = layerCount(runs, field);
  const rows = runs
    .map((r) => r.series[field]?.[r.series.epoch.length - 1])
    .filter((row): row is number[] => Array.isArray(row));
  return Array.from({ length: layers }, (_, l) => {
    const vals = rows.map((row) => row[l]).filter((v): v is number => v !== undefined && Number.isFinite(v));
    return field === "gradNorms" ? geoMean(vals) : mean(vals);
  });
}

/** Latest epoch reached by any run of the group, for captions. */
export function latestEpoch(runs: readonly TMetricsRun[]): number {
  return maxEpoch(runs);
}

/** [min, max] of positive values, for a shared log-scale range across small multiples. */
export function positiveRange(values: Iterable<number | null>): [number, number] | null {
  let lo = Number.POSITIVE_INFINITY;
  let hi = 0;
  for (const v of values) {
    if (v !== null && v > 0 && Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  return hi > 0 ? [lo, hi] : null;
}
