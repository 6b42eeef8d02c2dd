import { z } from "zod";

export const ZRunStatus = z.enum(["queued", "running", "succeeded", "failed", "canceled"]);
export type TRunStatus = z.infer<typeof ZRunStatus>;

export const ZExperimentStatus = z.enum(["queued", "running", "succeeded", "failed", "canceled", "partial"]);
export type TExperimentStatus = z.infer<typeof ZExperimentStatus>;

export const TERMINAL_RUN_STATUSES: readonly TRunStatus[] = ["succeeded", "failed", "canceled"];

export function isTerminalRunStatus(status: TRunStatus): boolean {
  return TERMINAL_RUN_STATUSES.includes(status);
}

/**
 * An experiment's status follows from its runs alone, so any process can recompute it after
 * any run changes and concurrent workers cannot leave it wrong.
 */
export function deriveExperimentStatus(runs: readonly TRunStatus[]): TExperimentStatus {
  if (runs.length === 0) return "queued";
  if (runs.some((s) => !isTerminalRunStatus(s))) {
    return runs.some((s) => s !== "queued") ? "running" : "queued";
  }
  if (runs.every((s) => s === "succeeded")) return "succeeded";
  if (runs.every((s) => s === "failed")) return "failed";
  if (runs.every((s) => s === "canceled")) return "canceled";
  if (runs.some((s) => s === "succeeded")) return "partial";
  // Only failed and canceled runs: nothing succeeded, the user stopped part of it.
  return runs.some((s) => s === "failed") ? "failed" : "canceled";
}
