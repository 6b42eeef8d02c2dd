import { cellLabel, SWEEP_PATH_LABELS, type TExperiment, type TSweepPath } from "@actlab/contracts";
import { useState } from "react";
import { AxisCurveChart } from "../../charts/AxisCurveChart.js";
import { CellHeatmap, type HeatmapMetric } from "../../charts/CellHeatmap.js";
import { otherCombinations, sweptPaths } from "../../lib/sweep.js";
import { Card, Segmented } from "../ui.js";

/** The metrics the heatmap can show: [value, label]. */
const METRICS = [
  ["accuracy", "accuracy"],
  ["gradRatio", "gradient ratio"],
] as const;

/** The axis curves and small multiples are drawn against: depth if swept, else the first numeric axis. */
function curveAxis(exp: TExperiment): TSweepPath | null {
  const numeric = sweptPaths(exp).filter((p) =>
    (exp.spec.sweep[p] as unknown[] | undefined)?.every((v) => typeof v === "number"),
  );
  return numeric.includes("model.hiddenLayers") ? "model.hiddenLayers" : (numeric[0] ?? null);
}

/**
 * A sweep's overview: the heatmap of cells × variants, the depth curve (accuracy with its
 * interval band and gradient ratio against model.hiddenLayers) when depth is swept, and small
 * multiples of that curve for each combination of the other axes when two or more are swept.
 */
export function SweepCard({
  exp,
  selected,
  onSelect,
}: {
  exp: TExperiment;
  selected: string | null;
  onSelect: (key: string | null) => void;
}) {
  const [metric, setMetric] = useState<HeatmapMetric>("accuracy");
  const paths = sweptPaths(exp);
  const x = curveAxis(exp);
  const combos = x && paths.length >= 2 ? otherCombinations(exp, x) : [];
  const depth = x === "model.hiddenLayers";
  return (
    <Card
      title="Sweep"
      actions={<Segmented label="heatmap metric" options={METRICS} value={metric} onChange={setMetric} />}
    >
      <p className="muted small">
        Final test accuracy (chance 10% → 100%) or the first/last layer gradient-norm ratio (log scale, 10⁻⁶ →
        1) of every cell × variant, mean over finished repeats. Click a cell to filter every chart to it.
      </p>
      <CellHeatmap exp={exp} metric={metric} selected={selected} onSelect={onSelect} />
      {x && combos.length <= 1 ? (
        <>
          <h3>{depth ? "Depth curve" : `Against ${SWEEP_PATH_LABELS[x]}`}</h3>
          <div className="chart-grid">
            <AxisCurveChart
              exp={exp}
              path={x}
              metric="accuracy"
              title="test accuracy"
              testId="chart-depth-accuracy"
            />
            <AxisCurveChart
              exp={exp}
              path={x}
              metric="gradRatio"
              title="grad ratio first/last"
              testId="chart-depth-gradient"
            />
          </div>
          <p className="muted small">
            Band: the 95% interval of the mean accuracy (t over repeats; one run: its test set's binomial
            interval).
          </p>
        </>
      ) : null}
      {x && combos.length > 1 ? (
        <>
          <h3>
            Small multiples: accuracy against {SWEEP_PATH_LABELS[x]}, one per{" "}
            {paths
              .filter((p) => p !== x)
              .map((p) => SWEEP_PATH_LABELS[p])
              .join(" × ")}
          </h3>
          <div className="chart-grid small-multiples">
            {combos.map((fixed) => (
              <div key={cellLabel(fixed)}>
                <h4 className="small">{cellLabel(fixed)}</h4>
                <AxisCurveChart
                  exp={exp}
                  path={x}
                  metric="accuracy"
                  fixed={fixed}
                  title="test accuracy"
                  testId={`chart-multiple-${cellLabel(fixed)}`}
                  height={180}
                />
              </div>
            ))}
          </div>
        </>
      ) : null}
    </Card>
  );
}
