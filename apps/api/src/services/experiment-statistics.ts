import { createHash } from "node:crypto";
import {
  sweepCells,
  type TCell,
  type TComparison,
  type TExperimentSpec,
  type TVariantSummary,
} from "@actlab/contracts";
import type { RunView } from "@actlab/db";
import { LRUCache } from "lru-cache";
import {
  adjustComparisons,
  pairVariantsInCell,
  runsByCell,
  summarizeCell,
  type UnadjustedComparison,
} from "./reports/summary.js";

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
  const cells = sweepCells(spec);
  const byCell = runsByCell(spec, runs);
  return assemble(byCell.map((mine, i) => computeCell(spec, cells[i] as TCell, mine, latestGradNorms)));
}

/** One cell's share of the statistics: its summary entries and its pairs before Holm's adjustment. */
interface CellStatistics {
  fingerprint: string;
  summary: TVariantSummary[];
  pairs: UnadjustedComparison[];
}

function computeCell(
  spec: TExperimentSpec,
  cell: TCell,
  runsOfCell: readonly RunView[],
  latestGradNorms: ReadonlyMap<string, readonly number[]>,
): CellStatistics {
  return {
    fingerprint: "",
    summary: summarizeCell(spec, cell, runsOfCell, latestGradNorms),
    pairs: pairVariantsInCell(spec, cell, runsOfCell),
  };
}

/** The experiment's statistics from its cells': Holm's adjustment spans every pair of every cell. */
function assemble(cells: readonly CellStatistics[]): ExperimentStatistics {
  return {
    summary: cells.flatMap((c) => c.summary),
    comparisons: adjustComparisons(cells.flatMap((c) => c.pairs)),
  };
}

/**
 * What one cell's statistics are a function of: per run its place, status and final figures,
 * plus where its latest epoch came from — its epochs done and attempt (within an attempt every
 * stored epoch moves epochsCompleted; a resumed run is a new attempt), since the latest epoch's
 * gradient norms are the only other input. Not updatedAt: a running run's heartbeat moves it
 * every few seconds and changes nothing here. Equal fingerprints, equal statistics.
 */
function cellFingerprint(runsOfCell: readonly RunView[]): string {
  const hash = createHash("sha1");
  for (const r of runsOfCell) {
    hash.update(
      `|${r.id},${r.variantIndex},${r.repeat},${r.status},${r.testAccuracy},${r.testLoss},` +
        `${r.seconds},${r.epochsCompleted},${r.attempts}`,
    );
  }
  return hash.digest("hex");
}

/**
 * Experiments' statistics as last computed, by experiment id, kept cell by cell. A 2,000-run
 * sweep's 500 summaries and 1,000 comparisons (t-tests, exact bootstraps) plus the read of every
 * run's latest epoch cost more than the rest of GET /v1/experiments/:id together, and a finished
 * experiment's never change; a dashboard reads them again on every refetch. While a sweep runs,
 * a run finishing changes one cell: only that cell's figures and its runs' latest epochs are
 * computed and read again, and Holm's adjustment (a sort of the p-values) is redone over all.
 * An entry is used only for the spec it was computed under; every API process keeps its own.
 */
const cache = new LRUCache<
  string,
  { spec: string; cells: CellStatistics[]; statistics: ExperimentStatistics }
>({
  max: 256,
  // Bounded by entries held (under 1 kB each as JSON), so a few big sweeps cannot crowd the heap: 20,000 is
  // about 13 sweeps of 2,000 runs, or every one of 256 small experiments.
  maxSize: 20_000,
  sizeCalculation: ({ statistics }) => 1 + statistics.summary.length + statistics.comparisons.length,
});

/**
 * The experiment's statistics, computed again only for the cells whose runs changed.
 * `loadGradNorms` receives the ids of the runs whose latest epoch is needed (those of changed
 * cells that trained at least one epoch) and is not called when there are none.
 */
export async function experimentStatistics(
  experimentId: string,
  spec: TExperimentSpec,
  runs: readonly RunView[],
  loadGradNorms: (runIds: string[]) => Promise<ReadonlyMap<string, readonly number[]>>,
): Promise<ExperimentStatistics> {
  const specKey = JSON.stringify(spec);
  const byCell = runsByCell(spec, runs);
  const fingerprints = byCell.map(cellFingerprint);
  const hit = cache.get(experimentId);
  // Cells are positional under one spec; another spec (a continue changes epochs) starts afresh.
  const kept = hit?.spec === specKey ? hit.cells : [];
  const stale = fingerprints.flatMap((f, i) => (kept[i]?.fingerprint === f ? [] : [i]));
  if (hit && stale.length === 0) return hit.statistics;

  const needEpochs = stale.flatMap((i) => byCell[i]!.filter((r) => r.epochsCompleted > 0).map((r) => r.id));
  const gradNorms = needEpochs.length > 0 ? await loadGradNorms(needEpochs) : new Map<string, number[]>();
  const cells = sweepCells(spec);
  const fresh = new Set(stale);
  const next = byCell.map((mine, i) =>
    fresh.has(i)
      ? { ...computeCell(spec, cells[i] as TCell, mine, gradNorms), fingerprint: fingerprints[i]! }
      : kept[i]!,
  );
  const statistics = assemble(next);
  cache.set(experimentId, { spec: specKey, cells: next, statistics });
  return statistics;
}
