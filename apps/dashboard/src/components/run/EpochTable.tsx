import { useState } from "react";
import type { useMetrics } from "../../api/hooks.js";
import { num, pct } from "../../lib/format.js";
import { count } from "../../lib/progress.js";

/** A run's numbers per epoch; long runs show their first and last five until asked for all. */
export function EpochTable({
  series,
}: {
  series: NonNullable<ReturnType<typeof useMetrics>["data"]>["runs"][number]["series"];
}) {
  const [all, setAll] = useState(false);
  const n = series.epoch.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  const shown = all || n <= 12 ? idx : [...idx.slice(0, 5), -1, ...idx.slice(n - 5)];
  return (
    <details className="epoch-details">
      <summary>Per-epoch table ({count(n, "epoch")})</summary>
      <div className="table-wrap">
        <table className="table small">
          <thead>
            <tr>
              <th className="num">Epoch</th>
              <th className="num">Train loss</th>
              <th className="num">Train acc.</th>
              <th className="num">Test loss</th>
              <th className="num">Test acc.</th>
              <th className="num">‖∇W‖ first</th>
              <th className="num">‖∇W‖ last</th>
              <th className="num">Seconds</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((i) =>
              i < 0 ? (
                <tr key="gap">
                  <td colSpan={8} className="muted">
                    <button type="button" className="btn btn-ghost btn-small" onClick={() => setAll(true)}>
                      show all {n} epochs
                    </button>
                  </td>
                </tr>
              ) : (
                <tr key={series.epoch[i]}>
                  <td className="num">{series.epoch[i]}</td>
                  <td className="num">{num(series.trainLoss?.[i], 4)}</td>
                  <td className="num">{pct(series.trainAccuracy?.[i], 2)}</td>
                  <td className="num">{num(series.testLoss?.[i], 4)}</td>
                  <td className="num">{pct(series.testAccuracy?.[i], 2)}</td>
                  <td className="num">{num(series.gradNorms?.[i]?.[0])}</td>
                  <td className="num">{num(series.gradNorms?.[i]?.at(-1))}</td>
                  <td className="num">{num(series.seconds?.[i], 2)}</td>
                </tr>
              ),
            )}
          </tbody>
        </table>
      </div>
    </details>
  );
}
