import { appendFileSync, mkdirSync } from "node:fs";
import { ROOT } from "./paths.js";

export const RESULTS_DIR = `${ROOT}/artifacts/reliability`;
export const RESULTS_FILE = `${RESULTS_DIR}/results.jsonl`;

export interface ScenarioResult {
  scenario: string;
  pass: boolean;
  figure: string;
  seconds: number;
  at: string;
  details?: Record<string, unknown>;
}

/** Prints one line a person can read and appends it to artifacts/reliability/results.jsonl. */
export function record(result: Omit<ScenarioResult, "at">): void {
  const full: ScenarioResult = { ...result, at: new Date().toISOString() };
  mkdirSync(RESULTS_DIR, { recursive: true });
  appendFileSync(RESULTS_FILE, `${JSON.stringify(full)}\n`);
  process.stdout.write(
    `\n[reliability] ${full.scenario}: ${full.pass ? "PASS" : "FAIL"} — ${full.figure} (${full.seconds.toFixed(1)} s)\n`,
  );
}

/**
 * Runs one scenario: `fn` returns its figure (and details) when every check passed; a throw is
 * recorded as FAIL with the assertion's first line, then rethrown so vitest fails too.
 */
export async function scenario(
  name: string,
  fn: () => Promise<{ figure: string; details?: Record<string, unknown> }>,
): Promise<void> {
  const started = Date.now();
  try {
    const { figure, details } = await fn();
    record({
      scenario: name,
      pass: true,
      figure,
      seconds: (Date.now() - started) / 1000,
      ...(details ? { details } : {}),
    });
  } catch (err) {
    const msg = ((err as Error).message ?? String(err)).split("\n").slice(0, 3).join(" ").slice(0, 300);
    record({ scenario: name, pass: false, figure: msg, seconds: (Date.now() - started) / 1000 });
    throw err;
  }
}

export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
