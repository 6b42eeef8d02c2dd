import { type TExperiment, variantLabel } from "@actlab/contracts";
import type { StreamState } from "../../api/events.js";
import { isActiveExperiment, useCancelExperiment, useDeleteExperiment } from "../../api/hooks.js";
import { duration, elapsedBetween, relativeTime } from "../../lib/format.js";
import { count, runsProgress } from "../../lib/progress.js";
import { Link, navigate } from "../../lib/router.js";
import { RunState } from "../run/RunState.js";
import { Card, errorMessage, Facts, Progress, StatusBadge } from "../ui.js";

/** The experiment's title, live-stream state, cancel/delete, overall progress and its spec in brief. */
export function ExperimentHeader({ exp, stream }: { exp: TExperiment; stream: StreamState }) {
  const cancel = useCancelExperiment(exp.id);
  const remove = useDeleteExperiment(exp.id);
  const active = isActiveExperiment(exp.status);
  const stale = exp.runs.filter((r) => r.stale);
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
              <span
                className={`stream stream-${stale.length ? "stale" : stream}`}
                title="live updates (Server-Sent Events)"
              >
                {stale.length
                  ? `${count(stale.length, "run")} not reporting`
                  : stream === "live"
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
        {stale.map((r) => (
          <div key={r.id} className="stale-banner" data-stale-run={r.id}>
            {variantLabel(r.variant)} · repeat {r.repeat}: <RunState run={r} />
          </div>
        ))}
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
              `${s.training.optimizer.name} lr ${s.training.optimizer.learningRate}, ${count(s.training.epochs, "epoch")}, batch ${s.training.batchSize}`,
            ],
            [
              "Runs",
              `${count(s.variants.length, "variant")} × ${count(s.training.repeats, "repeat")} on ${s.device}`,
            ],
          ]}
        />
      </Card>
    </>
  );
}
