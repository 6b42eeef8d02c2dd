import type { TRun } from "@actlab/contracts";
import { duration } from "./format.js";

/**
 * The states of a run the status alone does not tell: its worker stopped reporting (the API's
 * `stale`), or this attempt resumed another's work from a checkpoint.
 */

/** "no update for 25 s — another worker will resume it from its checkpoint", or null while it reports. */
export function staleText(
  run: Pick<TRun, "stale" | "updatedAt" | "status">,
  now = Date.now(),
): string | null {
  if (run.status !== "running" || !run.stale) return null;
  const silent = Math.max(0, Math.round((now - Date.parse(run.updatedAt)) / 1000));
  const since = silent < 60 ? `${silent} s` : duration(silent);
  return `no update for ${since} — another worker will resume it from its checkpoint`;
}

/** "resumed from epoch 12" for a run on its second or later attempt, or null. */
export function resumedText(run: Pick<TRun, "attempts" | "resumedFromEpoch">): string | null {
  if (run.attempts < 2 || run.resumedFromEpoch === null) return null;
  return run.resumedFromEpoch > 0
    ? `resumed from epoch ${run.resumedFromEpoch}`
    : "restarted from the first epoch (no checkpoint yet)";
}
