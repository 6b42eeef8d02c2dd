import { cellLeader, variantLabel } from "@actlab/contracts";
import { useState } from "react";
import { useExperimentEvents } from "../api/events.js";
import { isActiveExperiment, useExperiment, useMetrics } from "../api/hooks.js";
import { ExperimentCharts } from "../components/experiment/ExperimentCharts.js";
import { ExperimentEta } from "../components/experiment/ExperimentEta.js";
import { ExperimentHeader } from "../components/experiment/ExperimentHeader.js";
import { ResultActions } from "../components/experiment/ResultActions.js";
import { RunsTable } from "../components/experiment/RunsTable.js";
import { SummaryTable } from "../components/experiment/SummaryTable.js";
import { SweepCard } from "../components/experiment/SweepCard.js";
import { Verdicts } from "../components/experiment/Verdicts.js";
import { Card, ErrorState, Loading } from "../components/ui.js";
import { colorsByLabel } from "../lib/aggregate.js";
import { cellOptions, metricsOfCell, summaryOfCell, sweptPaths } from "../lib/sweep.js";

export function ExperimentPage({ id }: { id: string }) {
  const q = useExperiment(id);
  const active = q.data ? isActiveExperiment(q.data.status) : false;
  // While it trains, the event stream keeps the experiment and its metrics current; the metrics
  // are polled only when the stream is down.
  const stream = useExperimentEvents(id, active);
  // The cell every chart and table below the sweep is filtered to (null: the first cell).
  const [cell, setCell] = useState<string | null>(null);
  const cells = q.data ? cellOptions(q.data) : [];
  const shownCell = cells.find((c) => c.key === cell) ?? cells[0];
  const swept = q.data ? sweptPaths(q.data).length > 0 : false;
  // A sweep's metrics are fetched one cell at a time: 2,000 runs × 50 epochs are too many to load.
  // So nothing is fetched before the experiment says whether it is a sweep.
  const metricsQ = useMetrics(id, active && stream !== "live", swept && shownCell ? shownCell.cell : null, {
    enabled: q.data !== undefined,
  });

  if (q.isPending) return <Loading what="Loading experiment" />;
  if (q.isError) return <ErrorState error={q.error} retry={() => void q.refetch()} />;
  const exp = q.data;
  const shownKey = shownCell?.key ?? "{}";
  const summary = summaryOfCell(exp.summary, shownKey);
  const leader = summary[0] ? cellLeader(exp.summary, exp.comparisons, summary[0].cell) : null;
  // Live events append runs of every cell to the cache: keep the shown cell's.
  const filteredQ = {
    ...metricsQ,
    data: metricsOfCell(metricsQ.data, swept ? shownKey : null),
  } as typeof metricsQ;

  return (
    <div className="experiment" data-experiment-status={exp.status}>
      <ExperimentHeader exp={exp} stream={stream} />
      <ExperimentEta exp={exp} metrics={metricsQ.data} />
      <ResultActions exp={exp} />
      <RunsTable exp={exp} />
      {swept ? (
        <>
          <SweepCard exp={exp} selected={shownKey} onSelect={setCell} />
          <label className="cell-filter">
            Show cell{" "}
            <select data-testid="cell-filter" value={shownKey} onChange={(e) => setCell(e.target.value)}>
              {cells.map((c) => (
                <option key={c.key} value={c.key}>
                  {c.label}
                </option>
              ))}
            </select>
          </label>
        </>
      ) : null}
      <ExperimentCharts exp={exp} metricsQ={filteredQ} />
      <Card title={swept ? `Summary: ${shownCell?.label}` : "Summary"}>
        {summary.length ? (
          <SummaryTable
            colors={colorsByLabel(exp.spec.variants)}
            summary={summary}
            leader={leader ? variantLabel(leader.variant) : null}
            runs={exp.runs}
            filename={`actlab-${exp.name.replace(/[^\w.-]+/g, "_")}-${exp.id.slice(0, 8)}`}
          />
        ) : (
          <p className="muted">The summary appears once runs finish.</p>
        )}
        <Verdicts exp={exp} cell={shownKey} />
      </Card>
    </div>
  );
}
