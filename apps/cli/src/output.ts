import { ApiError } from "@actlab/client";
import Table from "cli-table3";

/** A mistake in how the command was called (exit 2), as opposed to an answer from the API (exit 1). */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Exit codes: documented in apps/cli/README.md. */
export const EXIT = { ok: 0, failed: 1, usage: 2, timeout: 3, interrupted: 130 } as const;

export interface Output {
  json: boolean;
  out: (text: string) => void;
  err: (text: string) => void;
}

export const stdio = (json: boolean): Output => ({
  json,
  out: (t) => process.stdout.write(t.endsWith("\n") ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith("\n") ? t : `${t}\n`),
});

export function printJson(o: Output, value: unknown): void {
  o.out(JSON.stringify(value, null, 2));
}

/** A plain table (no colours: output is often piped or captured). */
export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  t.push(...rows.map((r) => r.map(String)));
  return t.toString();
}

/**
 * Prints why a command failed and returns its exit code: the API's problem details (title,
 * detail, each bad field) when it sent them; with --json the problem itself, on stderr.
 */
export function reportError(o: Output, err: unknown): number {
  if (err instanceof ApiError) {
    if (o.json) {
      o.err(JSON.stringify(err.problem ?? { status: err.status, title: err.message }, null, 2));
    } else {
      o.err(`error: ${err.message}${err.status ? ` (HTTP ${err.status})` : ""}`);
      for (const e of err.problem?.errors ?? []) o.err(`  ${e.path}: ${e.message}`);
    }
    return EXIT.failed;
  }
  if (err instanceof UsageError) {
    o.err(o.json ? JSON.stringify({ title: "usage", detail: err.message }) : `error: ${err.message}`);
    return EXIT.usage;
  }
  o.err(`error: ${(err as Error)?.message ?? String(err)}`);
  return EXIT.failed;
}

export const pct = (x: number | null | undefined, digits = 1) =>
  x === null || x === undefined ? "–" : `${(x * 100).toFixed(digits)}%`;
export const num = (x: number | null | undefined, digits = 3) =>
  x === null || x === undefined ? "–" : x.toPrecision(digits);
export const secs = (x: number | null | undefined) =>
  x === null || x === undefined
    ? "–"
    : x < 60
      ? `${x.toFixed(1)} s`
      : `${Math.floor(x / 60)} min ${Math.round(x % 60)} s`;
