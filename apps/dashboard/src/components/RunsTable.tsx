import { isTerminalRunStatus, type TExperiment, variantLabel } from "@actlab/contracts";
import { useState } from "react";
import { colorsByLabel } from "../lib/aggregate.js";
import { duration, pct } from "../lib/format.js";
import { Link } from "../lib/router.js";
import { Card, Progress, StatusBadge, Swatch } from "./ui.js";

/** Every run of an experiment, repeat by repeat in the spec's variant order, with its progress. */
export function RunsTable({ exp }: { exp: TExperiment }) {
  const colors = colorsByLabel(exp.spec.variants);
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
                    <Swatch color={colors[variantLabel(r.variant)]} />
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
