/**
 * Print an experiment's report as Markdown (the same as GET /v1/experiments/:id/report with
 * `Accept: text/markdown`), read straight from Postgres:
 *   npm run report -- <experiment id> [--json]
 * Reads DATABASE_URL like the API (env.ts; default postgresql://postgres@127.0.0.1:5432/actlab).
 */
import { parseArgs } from "node:util";
import { createDb } from "@actlab/db";
import { EnvError, parseEnv } from "../env.js";
import { buildReport } from "../routes/reports/build.js";
import { loadReportInput } from "../routes/reports/load.js";
import { renderReportMarkdown } from "../routes/reports/markdown.js";
import { isUuid } from "../services/experiments.js";

const USAGE = "usage: npm run report -- <experiment id> [--json]";

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

async function main() {
  const { positionals, values } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  const [id] = positionals;
  if (values.help || !id) fail(USAGE);
  if (!isUuid(id)) fail(`not an experiment id: ${id}\n${USAGE}`);
  let env: ReturnType<typeof parseEnv>;
  try {
    env = parseEnv(process.env);
  } catch (err) {
    fail(err instanceof EnvError ? err.message : String(err));
  }
  const db = createDb({ url: env.DATABASE_URL, poolSize: 1, connectionTimeoutMillis: 5_000 });
  try {
    const input = await loadReportInput(db, { id, tenantId: null });
    if (!input) fail(`experiment ${id} not found`);
    const report = buildReport(input);
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderReportMarkdown(report));
  } finally {
    await db.$disconnect();
  }
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
