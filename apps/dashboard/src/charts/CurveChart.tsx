import { useMemo } from "react";
import type uPlot from "uplot";
import { PALETTE } from "../lib/aggregate.js";
import { axis, chartOptions, countPoints, line } from "./options.js";
import { type LegendItem, UPlot } from "./UPlot.js";

/** f solid, f′ dashed, a reference curve in grey: the same on every card and figure. */
export const CURVE_COLORS = { f: PALETTE[2]!, df: PALETTE[0]!, reference: PALETTE[7]! };

export interface Curve {
  label: string;
  color: string;
  y: (number | null)[];
  dashed?: boolean;
}

/** Functions of x drawn as lines (an activation and its derivative). */
export function CurveChart({
  x,
  curves,
  testId,
  title,
  height = 220,
}: {
  x: (number | null)[];
  curves: Curve[];
  testId: string;
  title: string;
  height?: number;
}) {
  const data = useMemo(
    () => [x.map((v) => v ?? Number.NaN), ...curves.map((c) => c.y)] as uPlot.AlignedData,
    [x, curves],
  );
  const key = curves.map((c) => c.label + c.color + (c.dashed ? "-" : "")).join("|");
  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuild when the set of curves changes
  const options = useMemo(
    () =>
      chartOptions({
        series: [
          { label: "x" },
          ...curves.map((c) => line(c.label, c.color, c.dashed ? { dash: [6, 4] } : {})),
        ],
        axes: [axis({ size: 32 }), axis({ size: 44 })],
      }),
    [key],
  );
  const legend: LegendItem[] = curves.map((c) => ({
    label: c.label,
    color: c.color,
    dashed: c.dashed ?? false,
  }));
  return (
    <UPlot
      options={options}
      data={data}
      points={countPoints(curves.map((c) => c.y))}
      testId={testId}
      ariaLabel={title}
      legend={legend}
      height={height}
    />
  );
}
