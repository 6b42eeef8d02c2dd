import { useExperimentEvents } from "../api/events.js";
import { isActiveExperiment, useExperiment, useMetrics } from "../api/hooks.js";
import { ExperimentCharts } from "../components/experiment/ExperimentCharts.js";
import { ExperimentHeader } from "../components/experiment/ExperimentHeader.js";
import { ResultActions } from "../components/experiment/ResultActions.js";
import { RunsTable } from "../components/experiment/RunsTable.js";
import { SummaryTable } from "../components/experiment/SummaryTable.js";
import { Card, ErrorState, Loading } from "../components/ui.js";
import { colorsByLabel } from "../lib/aggregate.js";

export function ExperimentPage({ id }: { id: string }) {
  const q = useExperiment(id);
  const active = q.data ? isActiveExperiment(q.data.status) : false;
  // While it trains, the event stream keeps the experiment and its metrics current; the metrics
  // are polled only when the stream is down.
  const stream = useExperimentEvents(id, active);
  const metricsQ = useMetrics(id, active && stream !== "live");

  if (q.isPending) return <Loading what="Loading experiment" />;
  if (q.isError) return <ErrorState error={q.error} retry={() => void q.refetch()} />;
  const exp = q.data;

  return (
    <div className="experiment" data-experiment-status={exp.status}>
      <ExperimentHeader exp={exp} stream={stream} />
      <ResultActions exp={exp} />
      <RunsTable exp={exp} />
      <ExperimentCharts exp={exp} metricsQ={metricsQ} />
      <Card title="Summary">
        {exp.summary.length ? (
          <SummaryTable
            colors={colorsByLabel(exp.spec.variants)}
            summary={exp.summary}
            runs={exp.runs}
            filename={`actlab-${exp.name.replace(/[^\w.-]+/g, "_")}-${exp.id.slice(0, 8)}`}
          />
        ) : (
          <p className="muted">The summary appears once runs finish.</p>
        )}
      </Card>
    </div>
  );
}
