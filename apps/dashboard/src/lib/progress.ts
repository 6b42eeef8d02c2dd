import type { TExperimentListItem, TRun } from "@actlab/contracts";

/**
 * Share of all planned epochs that are trained. Only a succeeded run counts as complete: a
 * canceled or failed run counts the epochs it did, so a canceled experiment's bar stops where
 * training stopped instead of reading 100%.
 */
export function runsProgress(runs: readonly Pick<TRun, "status" | "progress">[]): number {
  let done = 0;
  let total = 0;
  for (const r of runs) {
    const epochs = Math.max(1, r.progress.epochs);
    total += epochs;
    done += r.status === "succeeded" ? epochs : Math.min(epochs, r.progress.epoch);
  }
  return total ? done / total : 0;
}

export function listItemProgress(e: TExperimentListItem): number {
  const { epoch, epochs } = e.progress;
  if (epochs > 0) return Math.min(1, epoch / epochs);
  return e.status === "succeeded" ? 1 : 0;
}

/**
 * "2 of 7 runs succeeded · 3 canceled · 1 failed": what finished, and how. Canceled and failed
 * runs are named as such, never counted as done.
 */
export function runCountsText(counts: Readonly<Record<string, number>>): string | null {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const parts = [`${counts["succeeded"] ?? 0} of ${total} ${plural(total, "run")} succeeded`];
  for (const s of ["canceled", "failed"]) if (counts[s]) parts.push(`${counts[s]} ${s}`);
  return parts.join(" · ");
}

/** Runs per status, as the experiment list sends them. */
export function countByStatus(runs: readonly Pick<TRun, "status">[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of runs) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

/** "1 run", "2 runs": the word for a count (English plurals with -s suffice for these words). */
export function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

/** "1 epoch", "30 epochs", with thousands separators. */
export function count(n: number, word: string): string {
  return `${n.toLocaleString("en-US")} ${plural(n, word)}`;
}
