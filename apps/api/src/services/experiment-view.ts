import type { TCell, TExperiment, TExperimentSpec, TRun, TVariant } from "@actlab/contracts";
import type { ExperimentView, RunView } from "@actlab/db";
import { compareVariants, summarizeCells } from "./reports/summary.js";

export function toRunDto(run: RunView): TRun {
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
    progress: { epoch: run.epochsCompleted, epochs: run.epochs },
    testAccuracy: run.testAccuracy,
    testLoss: run.testLoss,
    seconds: run.seconds,
    error: run.error,
  };
}

export function experimentLinks(id: string): Record<string, string> {
  const self = `/v1/experiments/${id}`;
  return {
    self,
    events: `${self}/events`,
    metrics: `${self}/metrics`,
    report: `${self}/report`,
    cancel: `${self}/cancel`,
  };
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toExperimentDto(
  exp: Omit<ExperimentView, "runs">,
  runs: readonly RunView[],
  latestGradNorms: ReadonlyMap<string, number[]> = new Map(),
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
    runs: sorted.map(toRunDto),
    summary: summarizeCells(spec, sorted, latestGradNorms),
    comparisons: compareVariants(spec, sorted),
    links: experimentLinks(exp.id),
  };
}
