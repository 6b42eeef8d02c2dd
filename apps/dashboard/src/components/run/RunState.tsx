import type { TRun } from "@actlab/contracts";
import { resumedText, staleText } from "../../lib/runState.js";
import { useNow } from "../../lib/useNow.js";

/**
 * What a run's status badge cannot say: its worker stopped reporting (instead of a "running" that
 * looks alive), or this attempt resumed from a checkpoint. Nothing for a run without either.
 */
export function RunState({ run, compact }: { run: TRun; compact?: boolean }) {
  const now = useNow(run.stale);
  const stale = staleText(run, now);
  const resumed = resumedText(run);
  if (!stale && !resumed) return null;
  return (
    <span className={`run-state ${compact ? "small" : ""}`}>
      {stale ? (
        <span className="stale" role="status" data-testid="run-stale">
          ⚠ {stale}
        </span>
      ) : null}
      {resumed ? (
        <span className="muted resumed" data-testid="run-resumed">
          {resumed}
        </span>
      ) : null}
    </span>
  );
}
