import { appendFileSync, mkdirSync } from "node:fs";

export const RESULTS_DIR = new URL("../../../artifacts/distributed", import.meta.url).pathname;

/** One scenario's line for docs/reliability.md: what was injected, what held, the numbers. */
export function record(row: { scenario: string; injected: string; held: string; numbers: string }): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  appendFileSync(
    `${RESULTS_DIR}/results.jsonl`,
    `${JSON.stringify({ ...row, at: new Date().toISOString() })}\n`,
  );
  process.stdout.write(`\n[distributed] ${row.scenario} | ${row.injected} | ${row.held} | ${row.numbers}\n`);
}
