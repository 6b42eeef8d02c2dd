import { useMemo } from "react";
import type uPlot from "uplot";
import { epochAxis, maxEpoch, meanSpread, type ScalarField, type VariantGroup } from "../lib/aggregate.js";
import { ema } from "../lib/chartData.js";
import { structureOf } from "./groups.js";
import {
  axis,
  chartOptions,
  EPOCH_INCRS,
  hidden,
  type LogToggle,
  line,
  logAxis,
  percentTicks,
  useLogToggle,
  withAlpha,
} from "./options.js";
import { type LegendItem, UPlot } from "./UPlot.js";

/** Series per variant: the (smoothed) mean, the band's upper and lower edge, the raw mean drawn faint. */
const PER_GROUP = 4;

/**
 * Mean over repeats as a line, ± one standard deviation as a band, one colour per variant. Each
 * epoch's mean is over the runs that have reached it. With `smoothing` > 0 the line is its
 * exponential moving average and the raw mean stays as a faint line; `log` offers a log y axis.
 */
export function MeanSpreadChart({
  groups,
  field,
  title,
  testId,
  percent,
  smoothing = 0,
  log: logToggle,
}: {
  groups: VariantGroup[];
  field: ScalarField;
  title: string;
  testId: string;
  percent?: boolean;
  smoothing?: number;
  /** Offer a log/linear switch (loss charts). */
  log?: boolean;
}) {
  const epochs = Math.max(1, maxEpoch(groups.flatMap((g) => g.runs)));
  const showPoints = epochs <= 30 && smoothing === 0;
  const log: LogToggle = useLogToggle(testId, !!logToggle);

  const plot = useMemo(() => {
    const cols: (number | null)[][] = [];
    const counts: number[][] = [];
    let pts = 0;
    const positive = (xs: (number | null)[]) =>
      log.on ? xs.map((v) => (v !== null && v > 0 ? v : null)) : xs;
    for (const g of groups) {
      const s = meanSpread(g.runs, field, epochs, percent ? [0, 1] : undefined);
      pts += s.points;
      counts.push(s.n);
      const raw = positive(s.mean);
      cols.push(smoothing > 0 ? ema(raw, smoothing) : raw, positive(s.hi), positive(s.lo));
      cols.push(smoothing > 0 ? raw : raw.map(() => null));
    }
    return { data: [epochAxis(epochs), ...cols] as uPlot.AlignedData, points: pts, counts };
  }, [groups, field, epochs, percent, smoothing, log.on]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuild only when the set of variants (or an axis) changes
  const options = useMemo(
    () =>
      chartOptions({
        series: [
          { label: "epoch" },
          ...groups.flatMap((g) => [
            line(g.label, g.color, {
              points: { show: showPoints, size: 5 },
              spanGaps: true,
              ...(g.dash ? { dash: g.dash } : {}),
            }),
            hidden(`${g.label} +σ`),
            hidden(`${g.label} −σ`),
            line(`${g.label} raw`, withAlpha(g.color, 0.3), { width: 1, spanGaps: true }),
          ]),
        ],
        bands: groups.map((g, i) => ({
          series: [2 + i * PER_GROUP, 3 + i * PER_GROUP],
          fill: withAlpha(g.color, 0.16),
        })),
        cursor: { drag: { x: true, y: false } },
        scales: {
          y: log.on
            ? { distr: 3 }
            : percent
              ? { range: (_u, min, max) => [Math.max(0, min - 0.02), Math.min(1, max + 0.02)] }
              : {},
        },
        axes: [
          axis({ label: "epoch", incrs: EPOCH_INCRS }),
          log.on
            ? logAxis({ label: `${title} (log)`, size: 56 })
            : axis({ label: title, size: 56, values: percent ? percentTicks(1) : undefined }),
        ],
      }),
    [structureOf(groups), percent, title, showPoints, log.on],
  );

  const legend: LegendItem[] = groups.map((g, i) => ({
    label: g.label,
    color: g.color,
    dashed: !!g.dash,
    series: Array.from({ length: PER_GROUP }, (_, k) => 1 + i * PER_GROUP + k),
    note: (idx) => {
      const n = plot.counts[i]?.[idx] ?? 0;
      return n > 0 && n < g.runs.length ? `(${n} of ${g.runs.length} runs)` : null;
    },
  }));
  return (
    <UPlot
      data={plot.data}
      points={plot.points}
      options={options}
      testId={testId}
      ariaLabel={`${title} per epoch`}
      legend={legend}
      xName={(x) => `epoch ${x}`}
      format={percent ? (v) => `${(v * 100).toFixed(2)}%` : undefined}
      controls={log.control}
      download={title}
    />
  );
}
