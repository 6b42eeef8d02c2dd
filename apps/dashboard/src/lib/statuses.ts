import { type TExperimentStatus, type TRunStatus, ZExperimentStatus } from "@actlab/contracts";
import type { CSSProperties } from "react";

export const EXPERIMENT_STATUSES = ZExperimentStatus.options;

/** The colour of each status (a variable of styles.css), shared by badges and progress bars. */
const STATUS_COLOR: Record<TExperimentStatus | TRunStatus, string> = {
  queued: "var(--muted)",
  running: "var(--accent)",
  succeeded: "var(--ok)",
  failed: "var(--danger)",
  canceled: "var(--muted)",
  partial: "var(--warn)",
};

/** Sets `--status` for an element whose CSS colours itself by status. */
export function statusStyle(status: string | undefined): CSSProperties {
  const color = STATUS_COLOR[status as TExperimentStatus] ?? STATUS_COLOR.running;
  return { "--status": color } as CSSProperties;
}
