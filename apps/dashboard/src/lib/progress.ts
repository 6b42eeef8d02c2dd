import type { TExperimentListItem, TRun } from "@actlab/contracts";
import { isTerminalRunStatus } from "@actlab/contracts";

/** Share of all planned epochs that are done; finished runs count as complete whatever their epoch. */
export function runsProgress(runs: readonly Pick<TRun, "status" | "progress">[]): number {
  let done = 0;
  let total = 0;
  for (const r of runs) {
    const epochs = Math.max(1, r.progress.epochs);
    total += epochs;
    done += isTerminalRunStatus(r.status) ? epochs : Math.min(epochs, r.progress.epoch);
  }
  return total ? done / total : 0;
}

export function listItemProgress(e: TExperimentListItem): number {
  const { epoch, epochs } = e.progress;
  if (epochs > 0) return epoch / epochs;
  return ["queued", "running"].includes(e.status) ? 0 : 1;
}

export function runCountsText(e: TExperimentListItem): string | null {
  const total = Object.values(e.runCounts).reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const done = ["succeeded", "failed", "canceled"].reduce((a, s) => a + (e.runCounts[s] ?? 0), 0);
  return `${done}/${total} runs`;
}
