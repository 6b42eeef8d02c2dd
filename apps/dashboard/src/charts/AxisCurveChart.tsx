import type { TCell, TExperiment, TSweepPath } from "@actlab/contracts";
import { useMemo } from "react";
import type uPlot from "uplot";
import { colorsByLabel } from "../lib/aggregate.js";
import { axisCurves } from "../lib/sweep.js";
import {
  axis,
  chartOptions,
  countPoints,
  hidden,
  line,
  logSplits,
  logTickValues,
  percentTicks,
  withAlpha,
} from "./options.js";
import { UPlot } from "./UPlot.js";

/**
 * Accuracy (with its 95% interval as a band) or the first/last gradient ratio (log scale) against
 * one swept axis, one line per variant: the depth curve when the axis is model.hiddenLayers.
 */
export function AxisCurveChart({
  exp,
  path,
  metric,
  fixed,
  title,
  testId,
  height,
}: {
  exp: TExperiment;
  path: TSweepPath;
  metric: "accuracy" | "gradRatio";
  /** Values of the other swept axes (small multiples). */
  fixed?: TCell;
  title: string;
  testId: string;
  height?: number;
}) {
  const colors = colorsByLabel(exp.spec.variants);
  const { xs, curves } = useMemo(() => axisCurves(exp, path, metric, fixed), [exp, path, metric, fixed]);
  const data = useMemo(() => {
    const cols = curves.flatMap((c) => [c.mean, c.hi, c.lo]);
    return { data: [xs, ...cols] as uPlot.AlignedData, points: countPoints(curves.map((c) => c.mean)) };
  }, [xs, curves]);
  const log = metric === "gradRatio";
  const structure = curves.map((c) => c.label).join("|");
  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuild only when the set of variants changes
  const options = useMemo(
    () =>
      chartOptions({
        series: [
          { label: path },
          ...curves.flatMap((c) => [
            line(c.label, colors[c.label] ?? "#888", { points: { show: true, size: 6 }, spanGaps: true }),
            hidden(`${c.label} hi`),
            hidden(`${c.label} lo`),
          ]),
        ],
        bands: log
          ? []
          : curves.map((c, i) => ({
              series: [2 + i * 3, 3 + i * 3] as [number, number],
              fill: withAlpha(colors[c.label] ?? "#888888", 0.16),
            })),
        scales: log
          ? { y: { distr: 3 } }
          : {
              y: {
                range: (_u: uPlot, min: number, max: number) => [
                  Math.max(0, min - 0.05),
                  Math.min(1, max + 0.05),
                ],
              },
            },
        axes: [
          axis({
            label: path,
            values: (_u: uPlot, splits: number[]) => splits.map((v) => (xs.includes(v) ? String(v) : "")),
          }),
          axis({
            label: title,
            size: 60,
            ...(log ? { splits: logSplits, values: logTickValues } : { values: percentTicks(0) }),
          }),
        ],
      }),
    [structure, log, title, path, xs.join(",")],
  );
  return (
    <UPlot
      {...data}
      options={options}
      height={height ?? 260}
      testId={testId}
      ariaLabel={`${title} against ${path}`}
      legend={curves.map((c) => ({ label: c.label, color: colors[c.label] ?? "#888" }))}
      empty="No finished runs in these cells yet."
    />
  );
}
