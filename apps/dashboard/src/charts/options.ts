import { createElement, type ReactNode, useState } from "react";
import type uPlot from "uplot";

/*
 * The uPlot options every chart of the dashboard shares, built here once: the legend is drawn by
 * <UPlot> in HTML (uPlot's own is off), x is never a time axis, lines are 2 px in the series'
 * colour, log axes tick at powers of ten.
 */

/** What a chart component hands to <UPlot>: everything but the size, which follows the container. */
export type ChartOptions = Omit<uPlot.Options, "width" | "height">;

const AXIS = "#8a8f98";
const GRID = "rgba(138, 143, 152, 0.18)";

export function axis(extra: Partial<uPlot.Axis> = {}): uPlot.Axis {
  return {
    stroke: AXIS,
    grid: { stroke: GRID, width: 1 },
    ticks: { stroke: GRID, width: 1 },
    font: "11px system-ui, sans-serif",
    labelFont: "12px system-ui, sans-serif",
    ...extra,
  };
}

/** Options with the shared defaults; `scales.x` is merged, not replaced. */
export function chartOptions({
  scales = {},
  ...rest
}: Omit<ChartOptions, "scales"> & { scales?: uPlot.Scales }): ChartOptions {
  return { legend: { show: false }, ...rest, scales: { ...scales, x: { time: false, ...scales["x"] } } };
}

/** One line of the chart, `width` 2 and no point markers unless asked. */
export function line(label: string, color: string, extra: Partial<uPlot.Series> = {}): uPlot.Series {
  return { label, stroke: color, width: 2, points: { show: false }, ...extra };
}

/** An invisible series (a band's edge). */
export function hidden(label: string): uPlot.Series {
  return { label, stroke: "transparent", width: 0, points: { show: false }, spanGaps: true };
}

/** `#rrggbb` with an alpha channel. */
export const withAlpha = (hex: string, a: number) =>
  `${hex}${Math.round(a * 255)
    .toString(16)
    .padStart(2, "0")}`;

/** Epochs are whole numbers: never put a tick at 1.5. */
export const EPOCH_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000];

/** Tick labels for fractions shown as percentages, with this many decimals. */
export const percentTicks =
  (decimals: number) =>
  (_u: uPlot, splits: number[]): string[] =>
    splits.map((v) => `${Math.round(v * 100 * 10 ** decimals) / 10 ** decimals}%`);

/**
 * Tick labels with as many decimals as the spacing of the ticks needs: uPlot's default rounds to
 * three, so PReLU slopes of 0.0004 apart read "0.001, 0.001, 0, 0, 0".
 */
export function stepTicks(_u: uPlot, splits: number[]): string[] {
  const gaps = splits
    .slice(1)
    .map((v, i) => Math.abs(v - splits[i]!))
    .filter((g) => g > 0);
  const step = gaps.length ? Math.min(...gaps) : Math.abs(splits[0] ?? 1) || 1;
  const decimals = Math.min(10, Math.max(0, Math.ceil(-Math.log10(step) - 1e-9)));
  return splits.map((v) => (Math.abs(v) < step / 2 ? "0" : v.toFixed(decimals)));
}

/** Finite data points in some columns: what a chart reports as drawn (and its empty state). */
export const countPoints = (cols: readonly (readonly (number | null | undefined)[])[]) =>
  cols.reduce((n, c) => n + c.filter((v) => v !== null && v !== undefined && Number.isFinite(v)).length, 0);

/** Grid lines and ticks at powers of ten only (uPlot's default also draws 2…9 of each decade). */
export function logSplits(_u: uPlot, _axis: number, min: number, max: number): number[] {
  if (!(min > 0) || !(max > 0)) return [];
  const lo = Math.ceil(Math.log10(min) - 1e-9);
  const hi = Math.floor(Math.log10(max) + 1e-9);
  const out: number[] = [];
  const step = Math.max(1, Math.ceil((hi - lo + 1) / 8));
  for (let e = lo; e <= hi; e += step) out.push(10 ** e);
  return out.length ? out : [min, max];
}

/** Powers of ten as 1e-4 … 1e2 on log axes. */
export function logTickValues(_u: uPlot, splits: number[]): string[] {
  return splits.map((v) => {
    if (v === 0 || !Number.isFinite(v)) return "";
    const e = Math.log10(v);
    if (Math.abs(e - Math.round(e)) >= 1e-9) return v.toPrecision(2); // a range inside one decade
    return Math.abs(e) < 3 ? String(+v.toPrecision(1)) : `1e${Math.round(e)}`;
  });
}

/** A log-scale y axis ticked at powers of ten. */
export const logAxis = (extra: Partial<uPlot.Axis> = {}) =>
  axis({ splits: logSplits, values: logTickValues, ...extra });

export interface LogToggle {
  on: boolean;
  /** The toolbar switch (null when the chart offers none). */
  control: ReactNode;
}

/** A log/linear switch for a chart's y axis (loss and gradient charts), off unless `initial`. */
export function useLogToggle(testId: string, offered: boolean, initial = false): LogToggle {
  const [on, setOn] = useState(initial);
  if (!offered) return { on: initial, control: null };
  return {
    on,
    control: createElement(
      "button",
      {
        type: "button",
        className: on ? "chart-tool on" : "chart-tool",
        "aria-pressed": on,
        "data-testid": `${testId}-log`,
        title: "switch the y axis between log and linear",
        onClick: () => setOn((v) => !v),
      },
      "log y",
    ),
  };
}
