import { isTerminalRunStatus, type TRun, variantLabel } from "@actlab/contracts";
import { useMemo } from "react";
import { useExperimentEvents } from "../api/events.js";
import { useExperiment, useMetrics, useRun } from "../api/hooks.js";
import { GradientFlowGrid } from "../charts/GradientFlowGrid.js";
import { LayerFractionChart } from "../charts/LayerProfileChart.js";
import { MeanSpreadChart } from "../charts/MeanSpreadChart.js";
import { EpochTable } from "../components/run/EpochTable.js";
import { ModelDownload } from "../components/run/ModelDownload.js";
import { PredictPanel } from "../components/run/PredictPanel.js";
import { ProvenanceFacts } from "../components/run/ProvenanceFacts.js";
import { RunState } from "../components/run/RunState.js";
import { Card, Empty, ErrorState, Facts, Loading, Progress, StatusBadge } from "../components/ui.js";
import { ACTIVATION_COLORS, PALETTE, type VariantGroup } from "../lib/aggregate.js";
import { duration, num, pct } from "../lib/format.js";
import { Link } from "../lib/router.js";

/** The more advanced of two copies of a run (the polled one and the stream-updated one). */
function freshest(a: TRun, b: TRun | undefined): TRun {
  if (!b) return a;
  if (isTerminalRunStatus(a.status) !== isTerminalRunStatus(b.status))
    return isTerminalRunStatus(a.status) ? a : b;
  return b.progress.epoch > a.progress.epoch ? b : a;
}

export function RunPage({ id }: { id: string }) {
  const q = useRun(id);
  if (q.isPending) return <Loading what="Loading run" />;
  if (q.isError) return <ErrorState error={q.error} retry={() => void q.refetch()} />;
  return <RunView run={q.data} />;
}

function RunView({ run: fetched }: { run: TRun }) {
  const expQ = useExperiment(fetched.experimentId);
  const active = !isTerminalRunStatus(fetched.status);
  // While the run trains, its experiment's event stream moves the charts and the progress bar;
  // the experiment's copy of this run is the one the stream keeps current.
  const stream = useExperimentEvents(fetched.experimentId, active);
  const run = freshest(
    fetched,
    expQ.data?.runs.find((r) => r.id === fetched.id),
  );
  const metricsQ = useMetrics(run.experimentId, active && stream !== "live");
  const mine = metricsQ.data?.runs.find((r) => r.id === run.id);
  const group: VariantGroup[] = useMemo(
    () =>
      mine
        ? [
            {
              variant: run.variant,
              label: `${variantLabel(run.variant)} · repeat ${run.repeat}`,
              color: ACTIVATION_COLORS[run.variant.activation] ?? PALETTE[0]!,
              runs: [mine],
            },
          ]
        : [],
    [mine, run.variant, run.repeat],
  );
  const label = variantLabel(run.variant);

  return (
    <div className="run">
      <div className="page-head">
        <div>
          <div className="crumbs">
            <Link to="/">Experiments</Link> /{" "}
            <Link to={`/experiments/${run.experimentId}`}>{expQ.data?.name ?? "experiment"}</Link> /
          </div>
          <h1 className="exp-heading">
            {label} <span className="muted">· repeat {run.repeat}</span> <StatusBadge status={run.status} />
          </h1>
          <RunState run={run} />
        </div>
      </div>
      <Card>
        <Progress
          value={run.progress.epochs ? run.progress.epoch / run.progress.epochs : 0}
          status={run.status}
          label={`epoch ${run.progress.epoch}/${run.progress.epochs}`}
        />
        <Facts
          items={[
            ["Test accuracy", pct(run.testAccuracy, 2)],
            ["Test loss", num(run.testLoss, 4)],
            ["Time", duration(run.seconds)],
            ["Backend", run.backend ?? "—"],
            ["Device", run.device],
            ["Attempts", String(run.attempts)],
            ...(run.attempts > 1 && run.resumedFromEpoch !== null
              ? [["Resumed from", `epoch ${run.resumedFromEpoch}`] as [string, string]]
              : []),
            ["Seed", String(run.seed)],
            ["Run id", <code key="id">{run.id}</code>],
          ]}
        />
        {run.error ? (
          <div className="form-error run-failure" role="alert" data-testid="run-error">
            <strong>{run.status === "failed" ? "Failed" : "Error"}:</strong> {run.error}
          </div>
        ) : null}
        {run.status === "succeeded" ? <ModelDownload run={run} /> : null}
      </Card>

      {run.provenance ? (
        <Card title="Provenance">
          <ProvenanceFacts provenance={run.provenance} />
        </Card>
      ) : null}

      {run.status === "succeeded" ? <PredictPanel run={run} siblings={expQ.data?.runs ?? []} /> : null}

      <Card title="Metrics">
        {metricsQ.isPending ? (
          <Loading what="Loading metrics" />
        ) : metricsQ.isError ? (
          <ErrorState error={metricsQ.error} />
        ) : !mine || mine.series.epoch.length === 0 ? (
          <Empty
            title={
              run.status === "failed"
                ? "It failed before finishing an epoch (the error is above)."
                : run.status === "canceled"
                  ? "It was canceled before finishing an epoch."
                  : "No epochs recorded yet."
            }
          />
        ) : (
          <>
            <div className="chart-grid">
              <MeanSpreadChart
                groups={group}
                field="testAccuracy"
                title="test accuracy"
                testId="run-chart-accuracy"
                percent
              />
              <MeanSpreadChart groups={group} field="testLoss" title="test loss" testId="run-chart-loss" />
            </div>
            <h3>Gradient norm per layer</h3>
            <GradientFlowGrid groups={group} testIdPrefix="run-chart-gradflow" single />
            {mine.series.preluAlphaMean?.some((row) => row.length > 0) ? (
              <>
                <h3>Learned PReLU slope α per hidden layer (latest epoch)</h3>
                <LayerFractionChart
                  groups={group}
                  field="preluAlphaMean"
                  title="mean α"
                  testId="run-chart-prelu-alpha"
                />
              </>
            ) : null}
            <EpochTable series={mine.series} />
          </>
        )}
      </Card>
    </div>
  );
}
