import type { TRun } from "@actlab/contracts";
import { isTerminalRunStatus } from "@actlab/contracts";
import type { TExperimentListItem } from "../api/schemas.js";

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
  if (e.runs?.length) return runsProgress(e.runs);
  const p = e.progress;
  if (p && typeof p.epoch === "number" && typeof p.epochs === "number" && p.epochs > 0)
    return p.epoch / p.epochs;
  if (typeof p?.["fraction"] === "number") return p["fraction"] as number;
  return ["queued", "running"].includes(e.status) ? 0 : 1;
}

export function runCountsText(e: TExperimentListItem): string | null {
  const runs = e.runs;
  if (runs?.length) {
    const done = runs.filter((r) => isTerminalRunStatus(r.status)).length;
    return `${done}/${runs.length} runs`;
  }
  if (e.runCounts) {
    const total = Object.values(e.runCounts).reduce((a, b) => a + b, 0);
    const done = ["succeeded", "failed", "canceled"].reduce((a, s) => a + (e.runCounts?.[s] ?? 0), 0);
    return `${done}/${total} runs`;
  }
  return null;
}
