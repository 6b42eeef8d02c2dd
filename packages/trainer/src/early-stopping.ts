import type { TEarlyStopping } from "@actlab/contracts";

/**
 * Whether a run should stop after its latest epoch: its test loss has not improved on the best
 * one before by more than `minDelta` for `patience` epochs in a row. A pure function of every
 * epoch's test loss so far (1-based epochs in order), so a resumed run decides exactly as one
 * that never stopped, and every engine (TF.js, native) can call it after its evaluation.
 */
export function shouldStopEarly(testLosses: readonly number[], rule: TEarlyStopping | null): boolean {
  if (!rule || testLosses.length <= rule.patience) return false;
  let best = Number.POSITIVE_INFINITY;
  let since = 0;
  for (const loss of testLosses) {
    if (loss < best - rule.minDelta) {
      best = loss;
      since = 0;
    } else {
      since++;
    }
  }
  return since >= rule.patience;
}
