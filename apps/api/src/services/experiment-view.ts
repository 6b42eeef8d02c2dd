import type {
  TExperiment,
  TExperimentSpec,
  TProvenance,
  TRun,
  TVariant,
  TVariantSummary,
} from "@actlab/contracts";
import type { ExperimentView, RunView } from "@actlab/db";

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
    repeat: run.repeat,
    seed: run.seed,
    status: run.status,
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

export function mean(values: readonly number[]): number | null {
  if (!values.length) return null;
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample standard deviation (n − 1): the spread over repeats; null for fewer than two values. */
export function sampleStd(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const m = mean(values)!;
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
}

/** First layer's gradient norm over the last layer's; null when it cannot be formed. */
export function gradNormRatio(gradNorms: readonly number[] | undefined): number | null {
  if (!gradNorms || gradNorms.length < 2) return null;
  const ratio = gradNorms[0]! / gradNorms[gradNorms.length - 1]!;
  return Number.isFinite(ratio) ? ratio : null;
}

/**
 * Per variant, over its repeats: accuracy/loss/seconds from succeeded runs only (a failed or
 * canceled run has no final numbers), gradient-norm ratio from each run's latest epoch (so it
 * is already meaningful while the experiment runs).
 */
export function summarizeVariants(
  variants: readonly TVariant[],
  runs: readonly RunView[],
  latestGradNorms: ReadonlyMap<string, number[]>,
): TVariantSummary[] {
  return variants.map((variant, index) => {
    const mine = runs.filter((r) => r.variantIndex === index);
    const done = mine.filter((r) => r.status === "succeeded");
    const num = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null && Number.isFinite(x));
    const accuracy = num(done.map((r) => r.testAccuracy));
    const loss = num(done.map((r) => r.testLoss));
    const ratios = num(mine.map((r) => gradNormRatio(latestGradNorms.get(r.id))));
    return {
      variant,
      runs: mine.length,
      testAccuracy: { mean: mean(accuracy), std: sampleStd(accuracy) },
      testLoss: { mean: mean(loss), std: sampleStd(loss) },
      seconds: { mean: mean(num(done.map((r) => r.seconds))) },
      gradNormRatio: { mean: mean(ratios) },
    };
  });
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toExperimentDto(
  exp: Omit<ExperimentView, "runs">,
  runs: readonly RunView[],
  latestGradNorms: ReadonlyMap<string, number[]> = new Map(),
  staleness?: Staleness,
): TExperiment {
  const spec = exp.spec as TExperimentSpec;
  const sorted = [...runs].sort((a, b) => a.variantIndex - b.variantIndex || a.repeat - b.repeat);
  return {
    id: exp.id,
    name: exp.name,
    status: exp.status,
    createdAt: exp.createdAt.toISOString(),
    startedAt: iso(exp.startedAt),
    finishedAt: iso(exp.finishedAt),
    spec,
    runs: sorted.map((r) => toRunDto(r, staleness)),
    summary: summarizeVariants(spec.variants, sorted, latestGradNorms),
    links: experimentLinks(exp.id),
  };
}
