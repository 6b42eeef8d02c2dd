import {
  splitSizes,
  sweepCells,
  type TCell,
  type TComparison,
  type TExperimentSpec,
  type TRunStatus,
  type TVariant,
  type TVariantSummary,
} from "@actlab/contracts";
import { binomialInterval95, comparePaired, describeSample, holmAdjust } from "@actlab/stats";

/**
 * The statistics of an experiment's cells × variants (summary) and of its pairs of variants
 * within each cell (comparisons): a pure function of the runs' rows. The distributions come from
 * @actlab/stats (stdlib's Student t, Wilcoxon, Clopper–Pearson and Holm).
 */

/** What a run contributes: its place in the experiment and its final numbers. */
export interface SummaryRun {
  id: string;
  cellIndex: number;
  variantIndex: number;
  repeat: number;
  status: TRunStatus;
  testAccuracy: number | null;
  testLoss: number | null;
  seconds: number | null;
}

/** Below this adjusted p a difference counts as significant. */
export const SIGNIFICANCE = 0.05;

const finite = (xs: readonly (number | null | undefined)[]): number[] =>
  xs.filter((x): x is number => typeof x === "number" && Number.isFinite(x));

function average(xs: readonly number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** First layer's gradient norm over the last layer's; null when it cannot be formed. */
export function gradNormRatio(gradNorms: readonly number[] | undefined): number | null {
  if (!gradNorms || gradNorms.length < 2) return null;
  const ratio = gradNorms[0]! / gradNorms[gradNorms.length - 1]!;
  return Number.isFinite(ratio) ? ratio : null;
}

/** The runs of each cell, indexed by cellIndex (runs of a cell in the order given). */
export function runsByCell<R extends SummaryRun>(spec: TExperimentSpec, runs: readonly R[]): R[][] {
  const byCell = sweepCells(spec).map((): R[] => []);
  for (const r of runs) byCell[r.cellIndex]?.push(r);
  return byCell;
}

/** One cell's runs by variant, indexed by variantIndex. */
function byVariant<R extends SummaryRun>(spec: TExperimentSpec, runsOfCell: readonly R[]): R[][] {
  const groups = spec.variants.map((): R[] => []);
  for (const r of runsOfCell) groups[r.variantIndex]?.push(r);
  return groups;
}

/**
 * One cell's entries of the summary, one per variant in spec order: succeeded runs' final
 * accuracy and loss with their t interval over repeats — or, for a single run's accuracy, the
 * exact binomial interval of its test set —, mean seconds, and the mean gradient-norm ratio of
 * each run's latest epoch (meaningful while the experiment runs).
 */
export function summarizeCell(
  spec: TExperimentSpec,
  cell: TCell,
  runsOfCell: readonly SummaryRun[],
  latestGradNorms: ReadonlyMap<string, readonly number[]>,
): TVariantSummary[] {
  const { test } = splitSizes(spec.dataset);
  return byVariant(spec, runsOfCell).map((mine, variantIndex) => {
    const done = mine.filter((r) => r.status === "succeeded");
    const accuracy = describeSample(finite(done.map((r) => r.testAccuracy)));
    const loss = describeSample(finite(done.map((r) => r.testLoss)));
    const accuracyCi =
      accuracy.n === 1 && accuracy.mean !== null ? binomialInterval95(accuracy.mean, test) : accuracy.ci95;
    return {
      variant: spec.variants[variantIndex] as TVariant,
      cell,
      runs: mine.length,
      testAccuracy: { mean: accuracy.mean, std: accuracy.std, ci95: accuracyCi },
      testLoss: { mean: loss.mean, std: loss.std, ci95: loss.ci95 },
      seconds: { mean: average(finite(done.map((r) => r.seconds))) },
      gradNormRatio: { mean: average(finite(mine.map((r) => gradNormRatio(latestGradNorms.get(r.id))))) },
    };
  });
}

/** The summary of every cell × variant (cells in sweepCells order, variants in spec order). */
export function summarizeCells(
  spec: TExperimentSpec,
  runs: readonly SummaryRun[],
  latestGradNorms: ReadonlyMap<string, readonly number[]>,
): TVariantSummary[] {
  const cells = sweepCells(spec);
  return runsByCell(spec, runs).flatMap((mine, cellIndex) =>
    summarizeCell(spec, cells[cellIndex] as TCell, mine, latestGradNorms),
  );
}

/** A comparison before Holm's adjustment, which spans every pair of the experiment. */
export type UnadjustedComparison = Omit<TComparison, "pAdjusted" | "significant">;

/**
 * Every pair of variants within one cell, on the repeats both finished (same seeds, so the
 * paired differences cancel what the repeat shares).
 */
export function pairVariantsInCell(
  spec: TExperimentSpec,
  cell: TCell,
  runsOfCell: readonly SummaryRun[],
): UnadjustedComparison[] {
  const accuracyByRepeat = byVariant(spec, runsOfCell).map(
    (mine) =>
      new Map(
        mine
          .filter(
            (r) => r.status === "succeeded" && r.testAccuracy !== null && Number.isFinite(r.testAccuracy),
          )
          .map((r) => [r.repeat, r.testAccuracy as number]),
      ),
  );
  const pairs: UnadjustedComparison[] = [];
  for (let i = 0; i < accuracyByRepeat.length; i++) {
    for (let j = i + 1; j < accuracyByRepeat.length; j++) {
      const a = accuracyByRepeat[i]!;
      const b = accuracyByRepeat[j]!;
      const shared = [...a.keys()].filter((k) => b.has(k)).sort((x, y) => x - y);
      const c = comparePaired(
        shared.map((k) => a.get(k)!),
        shared.map((k) => b.get(k)!),
      );
      pairs.push({
        cell,
        a: spec.variants[i] as TVariant,
        b: spec.variants[j] as TVariant,
        repeats: c.n,
        meanDifference: c.meanDifference,
        ci95: c.ci95,
        bootstrapCi95: c.bootstrapCi95,
        pValue: c.pValue,
        wilcoxonPValue: c.wilcoxonPValue,
        test: c.test,
      });
    }
  }
  return pairs;
}

/** Holm's adjustment over every testable pair of the experiment at once; `significant` is its p below SIGNIFICANCE. */
export function adjustComparisons(pairs: readonly UnadjustedComparison[]): TComparison[] {
  const adjusted = holmAdjust(pairs.map((p) => p.pValue));
  return pairs.map((p, k) => {
    const pAdjusted = adjusted[k] ?? null;
    return { ...p, pAdjusted, significant: pAdjusted !== null && pAdjusted < SIGNIFICANCE };
  });
}

/** Every pair of variants within each cell, Holm-adjusted over the experiment. */
export function compareVariants(spec: TExperimentSpec, runs: readonly SummaryRun[]): TComparison[] {
  const cells = sweepCells(spec);
  return adjustComparisons(
    runsByCell(spec, runs).flatMap((mine, cellIndex) =>
      pairVariantsInCell(spec, cells[cellIndex] as TCell, mine),
    ),
  );
}
