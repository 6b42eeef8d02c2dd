import { createHash } from "node:crypto";
import type { TComparison, TExperimentSpec, TVariantSummary } from "@actlab/contracts";
import type { RunView } from "@actlab/db";
import { LRUCache } from "lru-cache";
import { compareVariants, summarizeCells } from "./reports/summary.js";

/** An experiment's summary (cell × variant) and comparisons (pairs of variants within each cell). */
export interface ExperimentStatistics {
  summary: TVariantSummary[];
  comparisons: TComparison[];
}

/** Computes the statistics from the runs (ordered by cell, variant, repeat) and their latest gradient norms. */
export function computeStatistics(
  spec: TExperimentSpec,
  runs: readonly RunView[],
  latestGradNorms: ReadonlyMap<string, readonly number[]>,
): ExperimentStatistics {
  return { summary: summarizeCells(spec, runs, latestGradNorms), comparisons: compareVariants(spec, runs) };
}

/**
 * What the statistics are a function of: the spec, and per run its place, status and final
 * figures, plus where its latest epoch came from — its epochs done and attempt (within an attempt
 * every stored epoch moves epochsCompleted; a resumed run is a new attempt), since the latest
 * epoch's gradient norms are the only other input. Not updatedAt: a running run's heartbeat
 * moves it every few seconds and changes nothing here. Equal fingerprints, equal statistics.
 */
function fingerprint(spec: unknown, runs: readonly RunView[]): string {
  const hash = createHash("sha1").update(JSON.stringify(spec));
  for (const r of runs) {
    hash.update(
      `|${r.id},${r.cellIndex},${r.variantIndex},${r.repeat},${r.status},${r.testAccuracy},${r.testLoss},` +
        `${r.seconds},${r.epochsCompleted},${r.attempts}`,
    );
  }
  return hash.digest("hex");
}

/**
 * Experiments' statistics as last computed, by experiment id. A 2,000-run sweep's 500 summaries
 * and 1,000 comparisons (t-tests, exact bootstraps, Holm) plus the read of every run's latest
 * epoch cost more than the rest of GET /v1/experiments/:id together, and a finished experiment's
 * never change; a dashboard reads them again on every refetch. Keyed by a fingerprint of exactly
 * their inputs, so an entry is used only while nothing it depends on has changed — a run that
 * finishes, continues, resumes or stores an epoch recomputes them — and every API process keeps
 * its own.
 */
const cache = new LRUCache<string, { fingerprint: string; statistics: ExperimentStatistics }>({
  max: 256,
  // Bounded by entries held (under 1 kB each as JSON), so a few big sweeps cannot crowd the heap: 20,000 is
  // about 13 sweeps of 2,000 runs, or every one of 256 small experiments.
  maxSize: 20_000,
  sizeCalculation: ({ statistics }) => 1 + statistics.summary.length + statistics.comparisons.length,
});

/**
 * The experiment's statistics, computed once per change of its runs. `loadGradNorms` is called
 * only when they must be computed (it reads every run's latest epoch).
 */
export async function experimentStatistics(
  experimentId: string,
  spec: TExperimentSpec,
  runs: readonly RunView[],
  loadGradNorms: () => Promise<ReadonlyMap<string, readonly number[]>>,
): Promise<ExperimentStatistics> {
  const key = fingerprint(spec, runs);
  const hit = cache.get(experimentId);
  if (hit?.fingerprint === key) return hit.statistics;
  const statistics = computeStatistics(spec, runs, await loadGradNorms());
  cache.set(experimentId, { fingerprint: key, statistics });
  return statistics;
}
