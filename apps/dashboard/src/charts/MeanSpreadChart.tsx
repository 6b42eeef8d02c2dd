import { useMemo } from "react";
import type uPlot from "uplot";
import { epochAxis, maxEpoch, meanSpread, type ScalarField, type VariantGroup } from "../lib/aggregate.js";
import { legendOf, structureOf } from "./groups.js";
import { axis, chartOptions, EPOCH_INCRS, hidden, line, percentTicks, withAlpha } from "./options.js";
import { UPlot } from "./UPlot.js";

/** Mean over repeats as a line, ± one standard deviation as a band, one colour per variant. */
export function MeanSpreadChart({
  groups,
  field,
  title,
  testId,
  percent,
}: {
  groups: VariantGroup[];
  field: ScalarField;
  title: string;
  testId: string;
  percent?: boolean;
}) {
  const epochs = Math.max(1, maxEpoch(groups.flatMap((g) => g.runs)));
  const showPoints = epochs <= 30;

  const plot = useMemo(() => {
    const cols: (number | null)[][] = [];
    let pts = 0;
    for (const g of groups) {
      const s = meanSpread(g.runs, field, epochs, percent ? [0, 1] : undefined);
      pts += s.points;
      cols.push(s.mean, s.hi, s.lo);
    }
    return { data: [epochAxis(epochs), ...cols] as uPlot.AlignedData, points: pts };
  }, [groups, field, epochs, percent]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuild only when the set of variants changes
  const options = useMemo(
    () =>
      chartOptions({
        // Three series per variant: the mean, then the band's upper and lower edge.
        series: [
          { label: "epoch" },
          ...groups.flatMap((g) => [
            line(g.label, g.color, { points: { show: showPoints, size: 5 }, spanGaps: true }),
            hidden(`${g.label} +σ`),
            hidden(`${g.label} −σ`),
          ]),
        ],
        bands: groups.map((g, i) => ({ series: [2 + i * 3, 3 + i * 3], fill: withAlpha(g.color, 0.16) })),
        cursor: { drag: { x: true, y: false } },
        scales: {
          y: percent ? { range: (_u, min, max) => [Math.max(0, min - 0.02), Math.min(1, max + 0.02)] } : {},
        },
        axes: [
          axis({ label: "epoch", incrs: EPOCH_INCRS }),
          axis({ label: title, size: 56, values: percent ? percentTicks(1) : undefined }),
        ],
      }),
    [structureOf(groups), percent, title, showPoints],
  );

  return (
    <UPlot
      {...plot}
      options={options}
      testId={testId}
      ariaLabel={`${title} per epoch`}
      legend={legendOf(groups)}
    />
  );
}
