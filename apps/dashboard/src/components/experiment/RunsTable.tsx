import { type TExperiment, type TRun, variantLabel } from "@actlab/contracts";
import { useState } from "react";
import { colorsByLabel } from "../../lib/aggregate.js";
import { duration, pct } from "../../lib/format.js";
import { countByStatus, runCountsText } from "../../lib/progress.js";
import { Link } from "../../lib/router.js";
import { RunState } from "../run/RunState.js";
import { type Column, Table } from "../Table.js";
import { Card, Progress, StatusBadge, Swatch } from "../ui.js";

const runProgress = (r: TRun) =>
  r.status === "succeeded" ? 1 : r.progress.epochs ? r.progress.epoch / r.progress.epochs : 0;

function columns(colors: Record<string, string>): Column<TRun>[] {
  return [
    {
      head: "Activation",
      cell: (r) => (
        <>
          <Swatch color={colors[variantLabel(r.variant)]} />
          <Link to={`/runs/${r.id}`}>{variantLabel(r.variant)}</Link>
          <span className="show-sm muted small"> · repeat {r.repeat}</span>
          {r.error ? (
            <div className="run-error small" title={r.error}>
              {r.error.slice(0, 120)}
            </div>
          ) : null}
        </>
      ),
    },
    { head: "Repeat", className: "num repeat-col", cell: (r) => r.repeat },
    {
      head: "Status",
      cell: (r) => (
        <>
          <StatusBadge status={r.status} />
          <RunState run={r} compact />
        </>
      ),
    },
    {
      head: "Progress",
      className: "progress-col",
      cell: (r) => (
        <Progress
          value={runProgress(r)}
          status={r.status}
          label={`${r.progress.epoch}/${r.progress.epochs}`}
        />
      ),
    },
    { head: "Test acc.", className: "num", cell: (r) => pct(r.testAccuracy, 2) },
    { head: "Time", className: "num hide-sm", cell: (r) => duration(r.seconds) },
    {
      head: "Backend",
      className: "hide-sm",
      cell: (r) => (r.backend ? `${r.backend} · ${r.device}` : r.device),
    },
    { head: "Attempts", className: "num hide-sm", cell: (r) => r.attempts },
  ];
}

/** Every run of an experiment, repeat by repeat in the spec's variant order, with its progress. */
export function RunsTable({ exp }: { exp: TExperiment }) {
  const [open, setOpen] = useState(exp.runs.length <= 24);
  const order = (r: TRun) => exp.spec.variants.findIndex((v) => variantLabel(v) === variantLabel(r.variant));
  const runs = [...exp.runs].sort((a, b) => a.repeat - b.repeat || order(a) - order(b));
  return (
    <Card
      title={`Runs (${runCountsText(countByStatus(exp.runs)) ?? "none"})`}
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
        <Table
          columns={columns(colorsByLabel(exp.spec.variants))}
          rows={runs}
          rowKey={(r) => r.id}
          rowProps={(r) => ({ "data-run-id": r.id, "data-run-status": r.status })}
          className="runs-table"
          testId="runs-table"
        />
      ) : null}
    </Card>
  );
}
