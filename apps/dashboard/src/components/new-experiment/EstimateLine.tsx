import type { TEstimate } from "@actlab/contracts";
import { duration } from "../../lib/format.js";

/**
 * An estimate in a few words: "≈ 4 min 10 s on 2 workers", or what is missing for one ("no
 * measurement yet"). The note (what it rests on) is the tooltip.
 */
export function EstimateLine({
  estimate,
  pending,
  testId,
}: {
  estimate: TEstimate | undefined;
  pending: boolean;
  testId: string;
}) {
  if (!estimate) {
    return (
      <span className="estimate muted small" data-testid={testId}>
        {pending ? "estimating…" : "no estimate"}
      </span>
    );
  }
  const { seconds, secondsPerEpoch, workers, note } = estimate;
  const text =
    seconds !== null
      ? `≈ ${duration(seconds)} on ${workers === 1 ? "1 worker" : `${workers} workers`}`
      : secondsPerEpoch !== null
        ? `≈ ${duration(secondsPerEpoch)} per epoch per run; ${workers === 0 ? "no worker connected" : "workers unknown"}`
        : "no measurement yet";
  return (
    <span className="estimate muted small" data-testid={testId} title={note} data-seconds={seconds ?? ""}>
      {text}
    </span>
  );
}
