import { cellLeader, variantLabel } from "@actlab/contracts";
import { useState } from "react";
import { useExperimentEvents } from "../api/events.js";
import { isActiveExperiment, useExperiment, useMetrics } from "../api/hooks.js";
import { ExperimentCharts } from "../components/experiment/ExperimentCharts.js";
import { ExperimentHeader } from "../components/experiment/ExperimentHeader.js";
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
  const metricsQ = useMetrics(id, active && stream !== "live");
  // The cell every chart and table is filtered to (null: all cells, for the curves).
  const [cell, setCell] = useState<string | null>(null);

  if (q.isPending) return <Loading what="Loading experiment" />;
  if (q.isError) return <ErrorState error={q.error} retry={() => void q.refetch()} />;
  const exp = q.data;
  const cells = cellOptions(exp);
  const swept = sweptPaths(exp).length > 0;
  // The summary table and the verdicts are per cell: the selected one, else the first.
  const shownCell = cell ?? cells[0]!.key;
  const summary = summaryOfCell(exp.summary, shownCell);
  const leader = summary[0] ? cellLeader(exp.summary, exp.comparisons, summary[0].cell) : null;
  const filteredQ = { ...metricsQ, data: metricsOfCell(metricsQ.data, cell) } as typeof metricsQ;

  return (
    <div className="experiment" data-experiment-status={exp.status}>
      <ExperimentHeader exp={exp} stream={stream} />
      <RunsTable exp={exp} />
      {swept ? (
        <>
          <SweepCard exp={exp} selected={cell} onSelect={setCell} />
          <label className="cell-filter">
            Show cell{" "}
            <select
              data-testid="cell-filter"
              value={cell ?? ""}
              onChange={(e) => setCell(e.target.value === "" ? null : e.target.value)}
            >
              <option value="">all cells</option>
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
      <Card title={swept ? `Summary: ${cells.find((c) => c.key === shownCell)?.label}` : "Summary"}>
        {summary.length ? (
          <SummaryTable
            colors={colorsByLabel(exp.spec.variants)}
            summary={summary}
            leader={leader ? variantLabel(leader.variant) : null}
            filename={`actlab-${exp.name.replace(/[^\w.-]+/g, "_")}-${exp.id.slice(0, 8)}`}
          />
        ) : (
          <p className="muted">The summary appears once runs finish.</p>
        )}
        <Verdicts exp={exp} cell={shownCell} />
      </Card>
    </div>
  );
}
