import { type TExperiment, variantLabel } from "@actlab/contracts";
import { num, pct } from "../lib/format.js";
import { heatColor, heatmapRows } from "../lib/sweep.js";

export type HeatmapMetric = "accuracy" | "gradRatio";

/**
 * Cells (rows) × variants (columns): final test accuracy on a linear colour scale from chance to
 * 100%, or the first/last gradient-norm ratio on a log scale from 1e-6 to 1. A table rather than a
 * canvas, so each square can be read, clicked (selects the cell) and tested.
 */
export function CellHeatmap({
  exp,
  metric,
  selected,
  onSelect,
}: {
  exp: TExperiment;
  metric: HeatmapMetric;
  selected: string | null;
  onSelect: (key: string | null) => void;
}) {
  const rows = heatmapRows(exp, (s) => (metric === "accuracy" ? s.testAccuracy.mean : s.gradNormRatio.mean));
  const color = (v: number | null) =>
    metric === "accuracy" ? heatColor(v, 0.1, 1) : heatColor(v, 1e-6, 1, true);
  const text = (v: number | null) => (metric === "accuracy" ? pct(v, 1) : num(v, 3));
  return (
    <div className="table-wrap">
      <table className="table heatmap" data-testid="sweep-heatmap" data-metric={metric}>
        <thead>
          <tr>
            <th>cell</th>
            {exp.spec.variants.map((v) => (
              <th key={variantLabel(v)} className="num">
                {variantLabel(v)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map(({ cell, values }) => (
            <tr
              key={cell.key}
              className={selected === cell.key ? "selected" : undefined}
              aria-selected={selected === cell.key}
            >
              <th scope="row">
                <button
                  type="button"
                  className="link-button"
                  onClick={() => onSelect(selected === cell.key ? null : cell.key)}
                >
                  {cell.label}
                </button>
              </th>
              {values.map((v, i) => {
                const variant = variantLabel(exp.spec.variants[i]!);
                return (
                  <td
                    key={variant}
                    className="num heat"
                    style={{ background: color(v), color: v === null ? undefined : "#fff" }}
                    data-cell={cell.label}
                    data-variant={variant}
                    data-value={v ?? ""}
                    title={`${cell.label} · ${variant}: ${text(v)}`}
                  >
                    {text(v)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
