import type { TExperiment } from "@actlab/contracts";
import type { useMetrics } from "../../api/hooks.js";
import { GradientFlowGrid } from "../../charts/GradientFlowGrid.js";
import { useGroups } from "../../charts/groups.js";
import { GradientProfileChart, LayerFractionChart } from "../../charts/LayerProfileChart.js";
import { LearningCurvesCard } from "../LearningCurvesCard.js";
import { Card, ErrorState, Loading } from "../ui.js";

/** The experiment's chart cards: learning curves, gradient flow, dead and saturated units. */
export function ExperimentCharts({
  exp,
  metricsQ,
}: {
  exp: TExperiment;
  metricsQ: ReturnType<typeof useMetrics>;
}) {
  const groups = useGroups(metricsQ.data, exp.spec.variants);
  const prelu = groups.filter((g) =>
    g.runs.some((r) => r.series.preluAlphaMean?.some((row) => row.length > 0)),
  );
  if (metricsQ.isPending) return <Loading what="Loading metrics" />;
  if (metricsQ.isError) return <ErrorState error={metricsQ.error} retry={() => void metricsQ.refetch()} />;
  return (
    <>
      <LearningCurvesCard
        title="Learning curves"
        groups={groups}
        testIdPrefix="chart"
        caption="Mean over the repeats that have reached each epoch (line) and ± one standard deviation (band)."
      />
      <Card title="Gradient flow">
        <p className="muted small">
          L2 norm of each layer's weight gradient on a fixed probe batch (log scale, geometric mean over
          repeats). When the first layers sit orders of magnitude below the last, the gradient has vanished on
          its way back.
        </p>
        <h3>By layer, latest epoch</h3>
        <GradientProfileChart groups={groups} testId="chart-gradient-profile" />
        <h3>Per epoch, each variant</h3>
        <GradientFlowGrid groups={groups} testIdPrefix="chart-gradflow" />
      </Card>
      <Card title="Dead and saturated units">
        <p className="muted small">
          Latest epoch, mean over repeats. Dead: a ReLU-like unit never active on the probe batch. Saturated:
          a sigmoid/tanh unit whose derivative is ~0 on every probe input.
        </p>
        <div className="chart-grid">
          <LayerFractionChart groups={groups} field="deadFraction" title="dead units" testId="chart-dead" />
          <LayerFractionChart
            groups={groups}
            field="saturatedFraction"
            title="saturated units"
            testId="chart-saturated"
          />
        </div>
        {prelu.length ? (
          <>
            <h3>PReLU: learned slope α per hidden layer (latest epoch)</h3>
            <LayerFractionChart
              groups={prelu}
              field="preluAlphaMean"
              title="mean α"
              testId="chart-prelu-alpha"
            />
          </>
        ) : null}
      </Card>
    </>
  );
}
