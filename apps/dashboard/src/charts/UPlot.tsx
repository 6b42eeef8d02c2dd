import { type ReactNode, useCallback, useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { chartCsv } from "../lib/chartData.js";
import { downloadBlob, fileSlug } from "../lib/download.js";
import type { ChartOptions } from "./options.js";

export interface LegendItem {
  label: string;
  color: string;
  dashed?: boolean;
  /**
   * The uPlot series (indices into options.series) this key stands for: clicking the key hides
   * or shows them, a double click shows only them; the first one's value is shown on hover.
   * Without it the key is a plain label.
   */
  series?: number[];
  /** A remark after the hovered value at data index `idx` ("1 of 3 runs"), or null. */
  note?: (idx: number) => string | null;
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
  /** Formats a hovered value (default: 4 significant digits). */
  format?: (v: number) => string;
  /** Names the x value on hover ("epoch 12", "layer 3"). */
  xName?: (x: number) => string;
  /** Extra controls in the chart's toolbar (a log/linear switch). */
  controls?: ReactNode;
  /** Base of the CSV and PNG file names; the chart offers both downloads when it is set. */
  download?: string;
}

const defaultFormat = (v: number) =>
  Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? String(+v.toPrecision(4)) : v.toExponential(2);

/**
 * A uPlot chart that follows its container's width and updates in place when data changes,
 * with what people expect from TensorBoard or W&B: hovering shows every visible series' value at
 * that x, the legend hides (click) or isolates (double click) a series, a dragged zoom has a
 * visible reset, and the chart downloads its data as CSV and itself as PNG.
 */
export function UPlot({
  options,
  data,
  height = 260,
  points,
  testId,
  ariaLabel,
  legend,
  empty,
  format = defaultFormat,
  xName = (x) => `x ${x}`,
  controls,
  download,
}: Props) {
  const holder = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latestData = useRef(data);
  latestData.current = data;
  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set());
  const hiddenRef = useRef(hidden);
  hiddenRef.current = hidden;
  const legendRef = useRef(legend);
  legendRef.current = legend;
  const [hoverIdx, setHoverIdx] = useState<number | null>(null);
  const [zoomed, setZoomed] = useState(false);
  const zoomedRef = useRef(zoomed);
  zoomedRef.current = zoomed;

  const applyVisibility = useCallback((u: uPlot, off: ReadonlySet<string>) => {
    for (const item of legendRef.current ?? []) {
      for (const s of item.series ?? []) {
        const show = !off.has(item.label);
        if (u.series[s] && u.series[s].show !== show) u.setSeries(s, { show });
      }
    }
  }, []);

  // (Re)build when the chart's structure changes.
  useEffect(() => {
    const el = holder.current;
    if (!el) return;
    const width = Math.max(200, el.clientWidth);
    const hooks: uPlot.Hooks.Arrays = {
      ...options.hooks,
      setCursor: [...(options.hooks?.setCursor ?? []), (u) => setHoverIdx(u.cursor.idx ?? null)],
      setScale: [
        ...(options.hooks?.setScale ?? []),
        (u, key) => {
          if (key !== "x") return;
          const xs = u.data[0];
          const first = xs[0];
          const last = xs[xs.length - 1];
          const { min, max } = u.scales.x ?? {};
          setZoomed(
            first !== undefined &&
              last !== undefined &&
              min !== undefined &&
              max !== undefined &&
              (min > first + 1e-9 || max < last - 1e-9),
          );
        },
      ],
    };
    const u = new uPlot({ ...options, hooks, width, height }, latestData.current, el);
    plot.current = u;
    applyVisibility(u, hiddenRef.current);
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
  }, [options, height, applyVisibility]);

  // Cheap in-place update on every new epoch (a zoom survives it).
  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    u.setData(data, !zoomedRef.current);
  }, [data]);

  useEffect(() => {
    if (plot.current) applyVisibility(plot.current, hidden);
  }, [hidden, applyVisibility]);

  const toggle = (label: string) =>
    setHidden((h) => {
      const next = new Set(h);
      if (next.has(label)) next.delete(label);
      else next.add(label);
      return next;
    });
  const isolate = (label: string) =>
    setHidden((h) => {
      const others = (legend ?? []).filter((l) => l.series?.length && l.label !== label).map((l) => l.label);
      // Isolating the one already isolated shows everything again.
      const alreadyAlone = !h.has(label) && others.every((o) => h.has(o));
      return alreadyAlone ? new Set() : new Set(others);
    });

  const resetZoom = () => {
    const u = plot.current;
    const xs = u?.data[0];
    if (!u || !xs?.length) return;
    u.setScale("x", { min: xs[0]!, max: xs[xs.length - 1]! });
  };

  const seriesLabels = () =>
    (plot.current?.series ?? options.series).map((s, i) =>
      i === 0 ? String(s.label ?? "x") : String(s.label ?? `series ${i}`),
    );
  const downloadCsv = () => {
    const cols = latestData.current as unknown as (number | null)[][];
    downloadBlob(`${fileSlug(download!)}.csv`, chartCsv(seriesLabels(), cols), "text/csv");
  };
  const downloadPng = () => {
    const u = plot.current;
    if (!u) return;
    void pngWithLegend(u, legend ?? [], hidden).then((blob) =>
      downloadBlob(`${fileSlug(download!)}.png`, blob, "image/png"),
    );
  };

  const hoverX = hoverIdx !== null ? data[0][hoverIdx] : undefined;
  const interactive = legend?.some((l) => l.series?.length);
  return (
    <figure
      className="chart"
      data-testid={testId}
      data-points={points}
      data-y-log={options.scales?.["y"]?.distr === 3}
      aria-label={ariaLabel}
    >
      {download || controls || zoomed ? (
        <div className="chart-tools">
          {controls}
          {zoomed ? (
            <button
              type="button"
              className="chart-tool"
              onClick={resetZoom}
              data-testid={`${testId}-reset-zoom`}
            >
              reset zoom
            </button>
          ) : null}
          {download ? (
            <>
              <button
                type="button"
                className="chart-tool"
                onClick={downloadCsv}
                title="this chart's data as CSV"
              >
                CSV
              </button>
              <button type="button" className="chart-tool" onClick={downloadPng} title="this chart as PNG">
                PNG
              </button>
            </>
          ) : null}
        </div>
      ) : null}
      <div ref={holder} className="chart-canvas" role="img" aria-label={ariaLabel} />
      {points === 0 ? (
        <div className="chart-empty">{empty ?? "No data yet — waiting for the first epoch."}</div>
      ) : null}
      {interactive && hoverX !== undefined && hoverX !== null ? (
        <div className="chart-hover" data-testid={`${testId}-hover`}>
          <b>{xName(hoverX)}</b>
          {(legend ?? [])
            .filter((l) => l.series?.length && !hidden.has(l.label))
            .map((l) => {
              const v = data[l.series![0]!]?.[hoverIdx!];
              return (
                <span key={l.label} className="legend-item">
                  <i style={{ background: l.color }} />
                  {l.label} <b>{v === null || v === undefined || !Number.isFinite(v) ? "—" : format(v)}</b>
                  {l.note?.(hoverIdx!) ? <span className="muted"> {l.note(hoverIdx!)}</span> : null}
                </span>
              );
            })}
        </div>
      ) : null}
      {legend?.length ? (
        <Legend items={legend} as="figcaption" hidden={hidden} onToggle={toggle} onIsolate={isolate} />
      ) : null}
    </figure>
  );
}

/** The chart's canvas on white with its legend underneath, as a PNG. */
async function pngWithLegend(
  u: uPlot,
  legend: readonly LegendItem[],
  hidden: ReadonlySet<string>,
): Promise<Blob> {
  const src = u.ctx.canvas;
  const ratio = src.width / u.width;
  const items = legend.filter((l) => !hidden.has(l.label));
  const lineH = 18 * ratio;
  const out = document.createElement("canvas");
  out.width = src.width;
  out.height = src.height + Math.ceil(items.length / 3) * lineH + 8 * ratio;
  const ctx = out.getContext("2d")!;
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(src, 0, 0);
  ctx.font = `${12 * ratio}px system-ui, sans-serif`;
  ctx.textBaseline = "middle";
  const colW = out.width / 3;
  items.forEach((l, i) => {
    const x = (i % 3) * colW + 10 * ratio;
    const y = src.height + Math.floor(i / 3) * lineH + lineH / 2 + 4 * ratio;
    ctx.fillStyle = l.color;
    ctx.fillRect(x, y - 2 * ratio, 14 * ratio, 4 * ratio);
    ctx.fillStyle = "#333333";
    ctx.fillText(l.label, x + 20 * ratio, y);
  });
  return new Promise((resolve, reject) =>
    out.toBlob((b) => (b ? resolve(b) : reject(new Error("no PNG"))), "image/png"),
  );
}

/** Coloured keys under a chart (uPlot's own legend is off: this one wraps on phones). */
export function Legend({
  items,
  as: Tag = "div",
  hidden,
  onToggle,
  onIsolate,
}: {
  items: LegendItem[];
  as?: "div" | "figcaption";
  hidden?: ReadonlySet<string>;
  onToggle?: (label: string) => void;
  onIsolate?: (label: string) => void;
}) {
  return (
    <Tag className="legend">
      {items.map((l) => {
        const key = (
          <i
            style={
              l.dashed
                ? { background: "transparent", height: 0, borderTop: `3px dashed ${l.color}` }
                : { background: l.color }
            }
          />
        );
        if (!l.series?.length || !onToggle) {
          return (
            <span key={l.label} className="legend-item">
              {key}
              {l.label}
            </span>
          );
        }
        const off = hidden?.has(l.label) ?? false;
        return (
          <button
            key={l.label}
            type="button"
            className={off ? "legend-item legend-toggle off" : "legend-item legend-toggle"}
            aria-pressed={!off}
            title="click: hide or show · double click: show only this"
            onClick={() => onToggle(l.label)}
            onDoubleClick={() => onIsolate?.(l.label)}
          >
            {key}
            {l.label}
          </button>
        );
      })}
    </Tag>
  );
}
