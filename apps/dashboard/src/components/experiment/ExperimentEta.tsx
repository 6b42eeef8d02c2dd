import {
  applyCell,
  epochWork,
  remainingSeconds,
  type TExperiment,
  type TMetricsResponse,
} from "@actlab/contracts";
import { isActiveExperiment } from "../../api/hooks.js";
import { duration } from "../../lib/format.js";

/**
 * While it trains: the time left, from this experiment's own runs' pace (remainingSeconds in
 * packages/contracts/src/estimate.ts): the seconds of each run's stored epochs in the metrics the
 * page already has, or a succeeded run's training seconds where the page has no metrics of it (a
 * sweep's other cells).
 */
export function ExperimentEta({ exp, metrics }: { exp: TExperiment; metrics: TMetricsResponse | undefined }) {
  if (!isActiveExperiment(exp.status)) return null;
  const series = new Map(metrics?.runs.map((r) => [r.id, r.series.seconds ?? []]));
  const runs = exp.runs.map((r) => {
    const stored = series.get(r.id) ?? [];
    const measured = stored.length
      ? { seconds: stored.reduce((a, b) => a + b, 0), epochs: stored.length }
      : r.status === "succeeded" && r.seconds !== null
        ? { seconds: r.seconds, epochs: r.progress.epoch }
        : null;
    return {
      status: r.status,
      epochs: r.progress.epochs,
      epochsDone: r.progress.epoch,
      work: epochWork(applyCell(exp.spec, r.cell)),
      measured,
    };
  });
  const left = remainingSeconds(runs);
  const parallel = Math.max(1, runs.filter((r) => r.status === "running").length);
  return (
    <p className="muted small eta" data-testid="eta" data-seconds={left ?? ""}>
      {left === null
        ? "Time left: measured once the first epoch is stored."
        : `≈ ${duration(left)} left at this experiment's pace, ${parallel === 1 ? "one run" : `${parallel} runs`} at a time`}
    </p>
  );
}
