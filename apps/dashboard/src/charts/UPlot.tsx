import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface LegendItem {
  label: string;
  color: string;
  dashed?: boolean;
}

interface Props {
  /** Everything but width/height; a new object rebuilds the chart, so memoise it. */
  options: Omit<uPlot.Options, "width" | "height">;
  data: uPlot.AlignedData;
  height?: number;
  /** Non-null data points drawn; exposed as data-points for tests and used for the empty state. */
  points: number;
  testId: string;
  ariaLabel: string;
  legend?: LegendItem[];
  empty?: string;
}

/** A uPlot chart that follows its container's width and updates in place when data changes. */
export function UPlot({ options, data, height = 260, points, testId, ariaLabel, legend, empty }: Props) {
  const holder = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latestData = useRef(data);
  latestData.current = data;

  // (Re)build when the chart's structure changes.
  useEffect(() => {
    const el = holder.current;
    if (!el) return;
    const width = Math.max(200, el.clientWidth);
    const u = new uPlot({ ...options, width, height }, latestData.current, el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (Math.abs(w - u.width) > 1) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [options, height]);

  // Cheap in-place update on every new epoch.
  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return (
    <figure className="chart" data-testid={testId} data-points={points} aria-label={ariaLabel}>
      <div ref={holder} className="chart-canvas" role="img" aria-label={ariaLabel} />
      {points === 0 ? (
        <div className="chart-empty">{empty ?? "No data yet — waiting for the first epoch."}</div>
      ) : null}
      {legend?.length ? (
        <figcaption className="legend">
          {legend.map((l) => (
            <span key={l.label} className="legend-item">
              <i
                style={
                  l.dashed
                    ? { background: "transparent", height: 0, borderTop: `3px dashed ${l.color}` }
                    : { background: l.color }
                }
              />
              {l.label}
            </span>
          ))}
        </figcaption>
      ) : null}
    </figure>
  );
}

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
