import { activationDef, type TExperiment } from "@actlab/contracts";
import type { useMetrics } from "../../api/hooks.js";
import { GradientFlowGrid } from "../../charts/GradientFlowGrid.js";
import { useGroups } from "../../charts/groups.js";
import { GradientProfileChart, LayerFractionChart } from "../../charts/LayerProfileChart.js";
import type { VariantGroup } from "../../lib/aggregate.js";
import { LearningCurvesCard } from "../LearningCurvesCard.js";
import { Card, ErrorState, Loading } from "../ui.js";

/** A dead- or saturated-unit chart of the variants it applies to; the rest listed as not applicable. */
function FractionCard({
  groups,
  others,
  field,
  title,
}: {
  groups: VariantGroup[];
  others: string[];
  field: "deadFraction" | "saturatedFraction";
  title: string;
}) {
  const testId = field === "deadFraction" ? "chart-dead" : "chart-saturated";
  return (
    <div>
      {groups.length ? (
        <LayerFractionChart groups={groups} field={field} title={title} testId={testId} />
      ) : (
        <p className="muted small">
          No {field === "deadFraction" ? "ReLU-family" : "sigmoid or tanh"} variant in this experiment.
        </p>
      )}
      {others.length ? (
        <p className="muted small" data-testid={`${testId}-not-applicable`}>
          {title}: not applicable to {others.join(", ")}
        </p>
      ) : null}
    </div>
  );
}

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
  // Dead units are a ReLU-family measure, saturation a sigmoid/tanh one: each chart draws only
  // the variants it applies to and names the others, instead of drawing them at 0%.
  const dead = groups.filter((g) => activationDef(g.variant.activation).reluLike);
  const saturated = groups.filter((g) => activationDef(g.variant.activation).saturating);
  const notApplicable = (shown: VariantGroup[]) =>
    groups.filter((g) => !shown.includes(g)).map((g) => g.label);
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
          <FractionCard groups={dead} others={notApplicable(dead)} field="deadFraction" title="dead units" />
          <FractionCard
            groups={saturated}
            others={notApplicable(saturated)}
            field="saturatedFraction"
            title="saturated units"
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
