import { type ReactNode, useMemo } from "react";
import type uPlot from "uplot";
import {
  epochAxis,
  type LayerField,
  latestLayerProfile,
  layerCount,
  type VariantGroup,
} from "../lib/aggregate.js";
import { structureOf } from "./groups.js";
import {
  axis,
  chartOptions,
  countPoints,
  line,
  logAxis,
  percentTicks,
  stepTicks,
  useLogToggle,
} from "./options.js";
import { UPlot } from "./UPlot.js";

/** One value per layer at the latest epoch, one line per variant (layers 1…n along x). */
function LayerProfileChart({
  groups,
  field,
  xLabel,
  tick,
  yAxis,
  yScale,
  testId,
  ariaLabel,
  height,
  controls,
  format,
}: {
  groups: VariantGroup[];
  field: LayerField;
  xLabel: string;
  /** Label of layer `l` (1-based) of `layers`. */
  tick: (l: number, layers: number) => string;
  yAxis: uPlot.Axis;
  yScale: uPlot.Scale;
  testId: string;
  ariaLabel: string;
  height?: number;
  controls?: ReactNode;
  format?: (v: number) => string;
}) {
  const layers = Math.max(1, ...groups.map((g) => layerCount(g.runs, field)));
  const plot = useMemo(() => {
    const cols = groups.map((g) => {
      const p = latestLayerProfile(g.runs, field);
      return Array.from({ length: layers }, (_, l) => p[l] ?? null);
    });
    return { data: [epochAxis(layers), ...cols] as uPlot.AlignedData, points: countPoints(cols) };
  }, [groups, layers, field]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuild only when variants/layers (or the axis) change
  const options = useMemo(
    () =>
      chartOptions({
        series: [
          { label: "layer" },
          ...groups.map((g) => line(g.label, g.color, { points: { show: true, size: 6, fill: g.color } })),
        ],
        scales: { x: { range: [0.8, layers + 0.2] }, y: yScale },
        axes: [
          axis({
            label: xLabel,
            incrs: [1],
            values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? tick(v, layers) : "")),
          }),
          yAxis,
        ],
      }),
    [structureOf(groups, layers), field, xLabel, yAxis.label, yScale.distr],
  );
  return (
    <UPlot
      {...plot}
      options={options}
      height={height}
      testId={testId}
      ariaLabel={ariaLabel}
      legend={groups.map((g, i) => ({ label: g.label, color: g.color, series: [i + 1] }))}
      xName={(x) => `layer ${tick(x, layers)}`}
      format={format}
      controls={controls}
      download={ariaLabel}
    />
  );
}

/**
 * The chapter's picture: each layer's gradient norm at the latest epoch, one line per variant,
 * on a log scale — sigmoid's first layers sit orders of magnitude below ReLU's.
 */
export function GradientProfileChart({ groups, testId }: { groups: VariantGroup[]; testId: string }) {
  const log = useLogToggle(testId, true, true);
  return (
    <LayerProfileChart
      groups={groups}
      field="gradNorms"
      xLabel="layer (input → output)"
      tick={(l, layers) => (l === layers ? "out" : `L${l}`)}
      yAxis={log.on ? logAxis({ label: "‖∇W‖ (log)", size: 56 }) : axis({ label: "‖∇W‖", size: 56 })}
      yScale={log.on ? { distr: 3 } : {}}
      controls={log.control}
      testId={testId}
      ariaLabel="gradient norm per layer at the latest epoch, log scale"
    />
  );
}

/** Dead (ReLU-like) or saturated (sigmoid/tanh) unit fraction per hidden layer at the latest epoch. */
export function LayerFractionChart({
  groups,
  field,
  title,
  testId,
}: {
  groups: VariantGroup[];
  field: Exclude<LayerField, "gradNorms">;
  title: string;
  testId: string;
}) {
  const percent = field !== "preluAlphaMean";
  return (
    <LayerProfileChart
      groups={groups}
      field={field}
      xLabel="hidden layer"
      tick={(l) => `L${l}`}
      yAxis={axis({ label: title, size: 60, values: percent ? percentTicks(0) : stepTicks })}
      yScale={percent ? { range: [0, 1] } : {}}
      format={percent ? (v) => `${(v * 100).toFixed(1)}%` : undefined}
      testId={testId}
      ariaLabel={`${title} per hidden layer`}
      height={220}
    />
  );
}
