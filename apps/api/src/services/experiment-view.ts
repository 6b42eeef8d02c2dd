import type { TCell, TExperiment, TExperimentSpec, TProvenance, TRun, TVariant } from "@actlab/contracts";
import type { ExperimentView, RunView } from "@actlab/db";
import type { ExperimentStatistics } from "./experiment-statistics.js";

/** Twice the worker's default heartbeat (HEARTBEAT_MS, 15 s): one missed beat is not yet a stopped worker. */
export const DEFAULT_RUN_STALE_AFTER_MS = 30_000;

/** How a run view is judged stale: the API's threshold and its clock. */
export interface Staleness {
  staleAfterMs: number;
  now: number;
}

/** A timestamp column as Postgres hands it over: a Date, or UTC text without a zone from JSON aggregates. */
function toDate(v: Date | string): Date {
  if (v instanceof Date) return v;
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
}

export function toRunDto(
  run: RunView,
  { staleAfterMs, now }: Staleness = { staleAfterMs: DEFAULT_RUN_STALE_AFTER_MS, now: Date.now() },
): TRun {
  const updatedAt = toDate(run.updatedAt);
  return {
    id: run.id,
    experimentId: run.experimentId,
    variant: run.variant as TVariant,
    cell: run.cell as TCell,
    repeat: run.repeat,
    seed: run.seed,
    status: run.status,
    stoppedEarly: run.stoppedEarly,
    device: run.device,
    backend: run.backend,
    attempts: run.attempts,
    resumedFromEpoch: run.resumedFromEpoch,
    progress: { epoch: run.epochsCompleted, epochs: run.epochs },
    testAccuracy: run.testAccuracy,
    testLoss: run.testLoss,
    seconds: run.seconds,
    error: run.error,
    provenance: (run.provenance as TProvenance | null) ?? null,
    updatedAt: updatedAt.toISOString(),
    stale: run.status === "running" && now - updatedAt.getTime() > staleAfterMs,
  };
}

export function experimentLinks(id: string): Record<string, string> {
  const self = `/v1/experiments/${id}`;
  return {
    self,
    events: `${self}/events`,
    metrics: `${self}/metrics`,
    metricsCsv: `${self}/metrics.csv`,
    continue: `${self}/continue`,
    report: `${self}/report`,
    cancel: `${self}/cancel`,
  };
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toExperimentDto(
  exp: Omit<ExperimentView, "runs">,
  runs: readonly RunView[],
  { summary, comparisons }: ExperimentStatistics,
  staleness?: Staleness,
): TExperiment {
  const spec = exp.spec as TExperimentSpec;
  const sorted = [...runs].sort(
    (a, b) => a.cellIndex - b.cellIndex || a.variantIndex - b.variantIndex || a.repeat - b.repeat,
  );
  return {
    id: exp.id,
    name: exp.name,
    status: exp.status,
    createdAt: exp.createdAt.toISOString(),
    startedAt: iso(exp.startedAt),
    finishedAt: iso(exp.finishedAt),
    spec,
    runs: sorted.map((r) => toRunDto(r, staleness)),
    summary,
    comparisons,
    links: experimentLinks(exp.id),
  };
}
