import { useMemo } from "react";
import type uPlot from "uplot";
import {
  epochAxis,
  gradNormsByEpoch,
  layerCount,
  maxEpoch,
  positiveRange,
  type VariantGroup,
} from "../lib/aggregate.js";
import { axis, chartOptions, countPoints, EPOCH_INCRS, line, logAxis, useLogToggle } from "./options.js";
import { Legend, type LegendItem, UPlot } from "./UPlot.js";

/** Depth palette for per-layer lines: light (input side) → dark (output). */
function layerColor(l: number, layers: number): string {
  const t = layers <= 1 ? 1 : l / (layers - 1);
  const hue = 45 + t * 225; // yellow → blue → violet
  const light = 62 - t * 30;
  return `hsl(${hue.toFixed(0)} 75% ${light.toFixed(0)}%)`;
}

/** Small multiples: per variant, each layer's gradient norm per epoch, on a shared log scale. */
export function GradientFlowGrid({
  groups,
  testIdPrefix,
  single,
}: {
  groups: VariantGroup[];
  testIdPrefix: string;
  /** One wide chart (the run page) instead of small multiples. */
  single?: boolean;
}) {
  const epochs = Math.max(1, maxEpoch(groups.flatMap((g) => g.runs)));
  const layers = Math.max(1, ...groups.map((g) => layerCount(g.runs, "gradNorms")));
  const perGroup = useMemo(() => groups.map((g) => gradNormsByEpoch(g.runs, epochs)), [groups, epochs]);
  const range = useMemo(() => positiveRange(perGroup.flat(2)), [perGroup]);
  const log = useLogToggle(testIdPrefix, true, true);
  const legend: LegendItem[] = Array.from({ length: layers }, (_, l) => ({
    label: l === layers - 1 ? "output" : `layer ${l + 1}`,
    color: layerColor(l, layers),
  }));
  return (
    <div className="gradflow">
      <div className="chart-tools">{log.control}</div>
      <div className={single ? "small-multiples single" : "small-multiples"}>
        {groups.map((g, i) => (
          <GradientFlowCell
            key={g.label}
            group={g}
            rows={perGroup[i] ?? []}
            epochs={epochs}
            layers={layers}
            range={range}
            log={log.on}
            testId={`${testIdPrefix}-${i}`}
            height={single ? 260 : 200}
          />
        ))}
      </div>
      <Legend items={legend} />
    </div>
  );
}

function GradientFlowCell({
  group,
  rows,
  epochs,
  layers,
  range,
  log,
  testId,
  height,
}: {
  group: VariantGroup;
  rows: (number | null)[][];
  epochs: number;
  layers: number;
  range: [number, number] | null;
  log: boolean;
  testId: string;
  height: number;
}) {
  const plot = useMemo(
    () => ({
      data: [
        epochAxis(epochs),
        ...Array.from({ length: layers }, (_, l) => rows[l] ?? []),
      ] as uPlot.AlignedData,
      points: countPoints(rows),
    }),
    [rows, epochs, layers],
  );
  // Every cell spans the same whole decades, so the variants compare at a glance.
  const lo = range ? 10 ** Math.floor(Math.log10(range[0])) : 1e-6;
  const hi = range ? 10 ** Math.ceil(Math.log10(range[1])) : 1;
  const showPoints = epochs <= 20;
  const options = useMemo(
    () =>
      chartOptions({
        title: group.label,
        series: [
          { label: "epoch" },
          ...Array.from({ length: layers }, (_, l) =>
            line(`layer ${l + 1}`, layerColor(l, layers), {
              width: 1.5,
              points: { show: showPoints, size: 4 },
              spanGaps: true,
            }),
          ),
        ],
        // Linear: from 0 to the same shared top, so the cells still compare at a glance.
        scales: { y: log ? { distr: 3, range: [lo, hi] } : { range: [0, range ? range[1] * 1.05 : 1] } },
        axes: [
          axis({ label: "epoch", size: 36, incrs: EPOCH_INCRS }),
          log ? logAxis({ size: 48 }) : axis({ size: 48 }),
        ],
      }),
    [group.label, layers, showPoints, lo, hi, log, range],
  );
  return (
    <UPlot
      {...plot}
      options={options}
      testId={testId}
      ariaLabel={`${group.label}: gradient norm of each layer per epoch, log scale`}
      height={height}
    />
  );
}
