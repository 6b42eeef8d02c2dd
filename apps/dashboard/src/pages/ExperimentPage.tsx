import { isTerminalRunStatus, type TExperiment, variantLabel } from "@actlab/contracts";
import { useState } from "react";
import { useExperimentEvents } from "../api/events.js";
import {
  isActiveExperiment,
  useCancelExperiment,
  useDeleteExperiment,
  useExperiment,
  useMetrics,
} from "../api/hooks.js";
import {
  GradientFlowGrid,
  GradientProfileChart,
  LayerFractionChart,
  MeanSpreadChart,
  useGroups,
} from "../charts/charts.js";
import { SummaryTable } from "../components/SummaryTable.js";
import { Card, ErrorState, errorMessage, Facts, Loading, Progress, StatusBadge } from "../components/ui.js";
import { variantColors } from "../lib/aggregate.js";
import { duration, elapsedBetween, pct, relativeTime } from "../lib/format.js";
import { runsProgress } from "../lib/progress.js";
import { Link, navigate } from "../lib/router.js";

export function ExperimentPage({ id }: { id: string }) {
  const q = useExperiment(id);
  const active = q.data ? isActiveExperiment(q.data.status) : false;
  const stream = useExperimentEvents(id, active);
  const metricsQ = useMetrics(id, active && stream !== "live");

  if (q.isPending) return <Loading what="Loading experiment" />;
  if (q.isError) return <ErrorState error={q.error} retry={() => void q.refetch()} />;
  const exp = q.data;

  return (
    <div className="experiment" data-experiment-status={exp.status}>
      <Header exp={exp} stream={stream} />
      <Runs exp={exp} />
      <Charts exp={exp} metricsQ={metricsQ} />
      <Card title="Summary">
        {exp.summary.length ? (
          <SummaryTable
            colors={colorsByLabel(exp)}
            summary={exp.summary}
            filename={`actlab-${exp.name.replace(/[^\w.-]+/g, "_")}-${exp.id.slice(0, 8)}`}
          />
        ) : (
          <p className="muted">The summary appears once runs finish.</p>
        )}
      </Card>
    </div>
  );
}

function colorsByLabel(exp: TExperiment): Record<string, string> {
  const colors = variantColors(exp.spec.variants);
  return Object.fromEntries(exp.spec.variants.map((v, i) => [variantLabel(v), colors[i]!]));
}

function Header({ exp, stream }: { exp: TExperiment; stream: string }) {
  const cancel = useCancelExperiment(exp.id);
  const remove = useDeleteExperiment(exp.id);
  const active = isActiveExperiment(exp.status);
  const s = exp.spec;
  return (
    <>
      <div className="page-head">
        <div>
          <div className="crumbs">
            <Link to="/">Experiments</Link> /
          </div>
          <h1 className="exp-heading">
            {exp.name} <StatusBadge status={exp.status} />
          </h1>
        </div>
        <div className="page-actions">
          {active ? (
            <>
              <span className={`stream stream-${stream}`} title="live updates (Server-Sent Events)">
                {stream === "live"
                  ? "● live"
                  : stream === "connecting"
                    ? "connecting…"
                    : stream === "reconnecting"
                      ? "reconnecting…"
                      : "polling"}
              </span>
              <button
                type="button"
                className="btn btn-danger"
                disabled={cancel.isPending}
                onClick={() => {
                  if (window.confirm("Cancel every queued and running run of this experiment?"))
                    cancel.mutate();
                }}
              >
                {cancel.isPending ? "Canceling…" : "Cancel"}
              </button>
            </>
          ) : (
            <button
              type="button"
              className="btn btn-ghost"
              disabled={remove.isPending}
              onClick={() => {
                if (window.confirm(`Delete "${exp.name}" with its runs, metrics and trained models?`))
                  remove.mutate(undefined, { onSuccess: () => navigate("/") });
              }}
            >
              {remove.isPending ? "Deleting…" : "Delete"}
            </button>
          )}
        </div>
      </div>
      {cancel.isError || remove.isError ? (
        <div className="form-error" role="alert">
          {errorMessage(cancel.error ?? remove.error)}
        </div>
      ) : null}
      <Card>
        <Progress value={runsProgress(exp.runs)} status={exp.status} />
        <Facts
          items={[
            [
              "Created",
              <span key="c" title={new Date(exp.createdAt).toLocaleString()}>
                {relativeTime(exp.createdAt)}
              </span>,
            ],
            ["Elapsed", duration(elapsedBetween(exp.startedAt, exp.finishedAt))],
            [
              "Dataset",
              `${s.dataset.name}, ${s.dataset.samples.toLocaleString("en-US")} samples, ${Math.round(s.dataset.testFraction * 100)}% test`,
            ],
            [
              "Network",
              `${s.model.hiddenLayers} × ${s.model.units}, ${s.model.initializer.name}${"stddev" in s.model.initializer ? ` σ=${s.model.initializer.stddev}` : ""}`,
            ],
            [
              "Training",
              `${s.training.optimizer.name} lr ${s.training.optimizer.learningRate}, ${s.training.epochs} epochs, batch ${s.training.batchSize}`,
            ],
            ["Runs", `${s.variants.length} variants × ${s.training.repeats} repeats on ${s.device}`],
          ]}
        />
      </Card>
    </>
  );
}

function Runs({ exp }: { exp: TExperiment }) {
  const colors = colorsByLabel(exp);
  const [open, setOpen] = useState(exp.runs.length <= 24);
  const runs = [...exp.runs].sort(
    (a, b) =>
      a.repeat - b.repeat ||
      exp.spec.variants.findIndex((v) => variantLabel(v) === variantLabel(a.variant)) -
        exp.spec.variants.findIndex((v) => variantLabel(v) === variantLabel(b.variant)),
  );
  return (
    <Card
      title={`Runs (${exp.runs.filter((r) => isTerminalRunStatus(r.status)).length}/${exp.runs.length} done)`}
      actions={
        <button
          type="button"
          className="btn btn-ghost btn-small"
          onClick={() => setOpen((o) => !o)}
          aria-expanded={open}
        >
          {open ? "Hide" : "Show"}
        </button>
      }
    >
      {open ? (
        <div className="table-wrap">
          <table className="table runs-table" data-testid="runs-table">
            <thead>
              <tr>
                <th>Activation</th>
                <th className="num repeat-col">Repeat</th>
                <th>Status</th>
                <th className="progress-col">Progress</th>
                <th className="num">Test acc.</th>
                <th className="num hide-sm">Time</th>
                <th className="hide-sm">Backend</th>
                <th className="num hide-sm">Attempts</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id} data-run-id={r.id} data-run-status={r.status}>
                  <td>
                    {colors[variantLabel(r.variant)] ? (
                      <i className="swatch" style={{ background: colors[variantLabel(r.variant)] }} />
                    ) : null}
                    <Link to={`/runs/${r.id}`}>{variantLabel(r.variant)}</Link>
                    <span className="show-sm muted small"> · repeat {r.repeat}</span>
                    {r.error ? (
                      <div className="run-error small" title={r.error}>
                        {r.error.slice(0, 120)}
                      </div>
                    ) : null}
                  </td>
                  <td className="num repeat-col">{r.repeat}</td>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td className="progress-col">
                    <Progress
                      value={
                        isTerminalRunStatus(r.status) && r.status === "succeeded"
                          ? 1
                          : r.progress.epochs
                            ? r.progress.epoch / r.progress.epochs
                            : 0
                      }
                      status={r.status}
                      label={`${r.progress.epoch}/${r.progress.epochs}`}
                    />
                  </td>
                  <td className="num">{pct(r.testAccuracy, 2)}</td>
                  <td className="num hide-sm">{duration(r.seconds)}</td>
                  <td className="hide-sm">{r.backend ? `${r.backend} · ${r.device}` : r.device}</td>
                  <td className="num hide-sm">{r.attempts}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Card>
  );
}

function Charts({ exp, metricsQ }: { exp: TExperiment; metricsQ: ReturnType<typeof useMetrics> }) {
  const groups = useGroups(metricsQ.data, exp.spec.variants);
  const [split, setSplit] = useState<"test" | "train">("test");
  const prelu = groups.filter((g) =>
    g.runs.some((r) => r.series.preluAlphaMean?.some((row) => row.length > 0)),
  );
  if (metricsQ.isPending) return <Loading what="Loading metrics" />;
  if (metricsQ.isError) return <ErrorState error={metricsQ.error} retry={() => void metricsQ.refetch()} />;
  const acc = split === "test" ? "testAccuracy" : "trainAccuracy";
  const loss = split === "test" ? "testLoss" : "trainLoss";
  return (
    <>
      <Card
        title="Learning curves"
        actions={
          <fieldset className="segmented" aria-label="data split">
            {(["test", "train"] as const).map((s) => (
              <button
                key={s}
                type="button"
                className={split === s ? "on" : ""}
                aria-pressed={split === s}
                onClick={() => setSplit(s)}
              >
                {s}
              </button>
            ))}
          </fieldset>
        }
      >
        <p className="muted small">
          Mean over repeats (line) and ± one standard deviation (band), per epoch.
        </p>
        <div className="chart-grid">
          <MeanSpreadChart
            groups={groups}
            field={acc}
            title={`${split} accuracy`}
            testId="chart-accuracy"
            percent
          />
          <MeanSpreadChart groups={groups} field={loss} title={`${split} loss`} testId="chart-loss" />
        </div>
      </Card>
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
