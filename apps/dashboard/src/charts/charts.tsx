import type { TMetricsResponse, TVariant } from "@actlab/contracts";
import { useMemo } from "react";
import type uPlot from "uplot";
import {
  epochAxis,
  gradNormsByEpoch,
  groupByVariant,
  type LayerField,
  latestLayerProfile,
  layerCount,
  maxEpoch,
  meanSpread,
  positiveRange,
  type ScalarField,
  type VariantGroup,
} from "../lib/aggregate.js";
import { axis, type LegendItem, logSplits, logTickValues, UPlot } from "./UPlot.js";

const alpha = (hex: string, a: number) =>
  `${hex}${Math.round(a * 255)
    .toString(16)
    .padStart(2, "0")}`;

/** Epochs are whole numbers: never put a tick at 1.5. */
const EPOCH_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000];

const countPoints = (cols: readonly (readonly (number | null | undefined)[])[]) =>
  cols.reduce((n, c) => n + c.filter((v) => v !== null && v !== undefined && Number.isFinite(v)).length, 0);

export function useGroups(
  metrics: TMetricsResponse | undefined,
  variants: readonly TVariant[],
): VariantGroup[] {
  return useMemo(() => (metrics ? groupByVariant(metrics, variants) : []), [metrics, variants]);
}

const legendOf = (groups: VariantGroup[]): LegendItem[] =>
  groups.map((g) => ({ label: g.label, color: g.color }));

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
  const structure = groups.map((g) => g.label).join("|");

  const { data, points } = useMemo(() => {
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
  const options = useMemo((): Omit<uPlot.Options, "width" | "height"> => {
    const series: uPlot.Series[] = [{ label: "epoch" }];
    const bands: uPlot.Band[] = [];
    groups.forEach((g, i) => {
      const base = 1 + i * 3;
      series.push(
        {
          label: g.label,
          stroke: g.color,
          width: 2,
          points: { show: epochs <= 30, size: 5 },
          spanGaps: true,
        },
        { label: `${g.label} +σ`, stroke: "transparent", width: 0, points: { show: false }, spanGaps: true },
        { label: `${g.label} −σ`, stroke: "transparent", width: 0, points: { show: false }, spanGaps: true },
      );
      bands.push({ series: [base + 1, base + 2], fill: alpha(g.color, 0.16) });
    });
    return {
      series,
      bands,
      legend: { show: false },
      cursor: { drag: { x: true, y: false } },
      scales: {
        x: { time: false },
        y: percent ? { range: (_u, min, max) => [Math.max(0, min - 0.02), Math.min(1, max + 0.02)] } : {},
      },
      axes: [
        axis({ label: "epoch", incrs: EPOCH_INCRS }),
        axis({
          label: title,
          size: 56,
          values: percent ? (_u, splits) => splits.map((v) => `${Math.round(v * 1000) / 10}%`) : undefined,
        }),
      ],
    };
  }, [structure, percent, title, epochs <= 30]);

  return (
    <UPlot
      options={options}
      data={data}
      points={points}
      testId={testId}
      ariaLabel={`${title} per epoch`}
      legend={legendOf(groups)}
    />
  );
}

/**
 * The chapter's picture: each layer's gradient norm at the latest epoch, one line per variant,
 * on a log scale — sigmoid's first layers sit orders of magnitude below ReLU's.
 */
export function GradientProfileChart({ groups, testId }: { groups: VariantGroup[]; testId: string }) {
  const layers = Math.max(1, ...groups.map((g) => layerCount(g.runs, "gradNorms")));
  const structure = `${groups.map((g) => g.label).join("|")}#${layers}`;
  const { data, points } = useMemo(() => {
    const cols = groups.map((g) => {
      const p = latestLayerProfile(g.runs, "gradNorms");
      return Array.from({ length: layers }, (_, l) => p[l] ?? null);
    });
    return { data: [epochAxis(layers), ...cols] as uPlot.AlignedData, points: countPoints(cols) };
  }, [groups, layers]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuild only when variants/layers change
  const options = useMemo(
    (): Omit<uPlot.Options, "width" | "height"> => ({
      series: [
        { label: "layer" },
        ...groups.map((g) => ({
          label: g.label,
          stroke: g.color,
          width: 2,
          points: { show: true, size: 6, fill: g.color },
        })),
      ],
      legend: { show: false },
      scales: { x: { time: false, range: [0.8, layers + 0.2] }, y: { distr: 3 } },
      axes: [
        axis({
          label: "layer (input → output)",
          incrs: [1],
          values: (_u, splits) =>
            splits.map((v) => (Number.isInteger(v) ? (v === layers ? "out" : `L${v}`) : "")),
        }),
        axis({ label: "‖∇W‖ (log)", size: 56, splits: logSplits, values: logTickValues }),
      ],
    }),
    [structure],
  );
  return (
    <UPlot
      options={options}
      data={data}
      points={points}
      testId={testId}
      ariaLabel="gradient norm per layer at the latest epoch, log scale"
      legend={legendOf(groups)}
    />
  );
}

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
  const legend: LegendItem[] = Array.from({ length: layers }, (_, l) => ({
    label: l === layers - 1 ? "output" : `layer ${l + 1}`,
    color: layerColor(l, layers),
  }));
  return (
    <div className="gradflow">
      <div className={single ? "small-multiples single" : "small-multiples"}>
        {groups.map((g, i) => (
          <GradientFlowCell
            key={g.label}
            group={g}
            rows={perGroup[i] ?? []}
            epochs={epochs}
            layers={layers}
            range={range}
            testId={`${testIdPrefix}-${i}`}
            height={single ? 260 : 200}
          />
        ))}
      </div>
      <div className="legend">
        {legend.map((l) => (
          <span key={l.label} className="legend-item">
            <i style={{ background: l.color }} />
            {l.label}
          </span>
        ))}
      </div>
    </div>
  );
}

function GradientFlowCell({
  group,
  rows,
  epochs,
  layers,
  range,
  testId,
  height,
}: {
  group: VariantGroup;
  rows: (number | null)[][];
  epochs: number;
  layers: number;
  range: [number, number] | null;
  testId: string;
  height: number;
}) {
  const data = useMemo(
    () =>
      [epochAxis(epochs), ...Array.from({ length: layers }, (_, l) => rows[l] ?? [])] as uPlot.AlignedData,
    [rows, epochs, layers],
  );
  const points = countPoints(rows);
  const lo = range ? 10 ** Math.floor(Math.log10(range[0])) : 1e-6;
  const hi = range ? 10 ** Math.ceil(Math.log10(range[1])) : 1;
  const showPoints = epochs <= 20;
  const options = useMemo(
    (): Omit<uPlot.Options, "width" | "height"> => ({
      title: group.label,
      series: [
        { label: "epoch" },
        ...Array.from({ length: layers }, (_, l) => ({
          label: `layer ${l + 1}`,
          stroke: layerColor(l, layers),
          width: 1.5,
          points: { show: showPoints, size: 4 },
          spanGaps: true,
        })),
      ],
      legend: { show: false },
      scales: { x: { time: false }, y: { distr: 3, range: [lo, hi] } },
      axes: [
        axis({ label: "epoch", size: 36, incrs: EPOCH_INCRS }),
        axis({ size: 48, splits: logSplits, values: logTickValues }),
      ],
    }),
    [group.label, layers, showPoints, lo, hi],
  );
  return (
    <UPlot
      options={options}
      data={data}
      points={points}
      height={height}
      testId={testId}
      ariaLabel={`${group.label}: gradient norm of each layer per epoch, log scale`}
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
  const layers = Math.max(1, ...groups.map((g) => layerCount(g.runs, field)));
  const structure = `${groups.map((g) => g.label).join("|")}#${layers}`;
  const { data, points } = useMemo(() => {
    const cols = groups.map((g) => {
      const p = latestLayerProfile(g.runs, field);
      return Array.from({ length: layers }, (_, l) => p[l] ?? null);
    });
    return { data: [epochAxis(layers), ...cols] as uPlot.AlignedData, points: countPoints(cols) };
  }, [groups, layers, field]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuild only when variants/layers change
  const options = useMemo(
    (): Omit<uPlot.Options, "width" | "height"> => ({
      series: [
        { label: "layer" },
        ...groups.map((g) => ({
          label: g.label,
          stroke: g.color,
          width: 2,
          points: { show: true, size: 6, fill: g.color },
        })),
      ],
      legend: { show: false },
      scales: { x: { time: false, range: [0.8, layers + 0.2] }, y: percent ? { range: [0, 1] } : {} },
      axes: [
        axis({
          label: "hidden layer",
          incrs: [1],
          values: (_u, s) => s.map((v) => (Number.isInteger(v) ? `L${v}` : "")),
        }),
        axis({
          label: title,
          size: 52,
          values: percent ? (_u, s) => s.map((v) => `${Math.round(v * 100)}%`) : undefined,
        }),
      ],
    }),
    [structure, title, percent],
  );
  return (
    <UPlot
      options={options}
      data={data}
      points={points}
      height={220}
      testId={testId}
      ariaLabel={`${title} per hidden layer`}
      legend={legendOf(groups)}
    />
  );
}
