import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { ChartOptions } from "./options.js";

export interface LegendItem {
  label: string;
  color: string;
  dashed?: boolean;
}

interface Props {
  /** Everything but width/height; a new object rebuilds the chart, so memoise it. */
  options: ChartOptions;
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
      {legend?.length ? <Legend items={legend} as="figcaption" /> : null}
    </figure>
  );
}

/** Coloured keys under a chart (uPlot's own legend is off: this one wraps on phones). */
export function Legend({ items, as: Tag = "div" }: { items: LegendItem[]; as?: "div" | "figcaption" }) {
  return (
    <Tag className="legend">
      {items.map((l) => (
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
    </Tag>
  );
}
