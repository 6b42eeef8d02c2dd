/**
 * Print an experiment's report as Markdown (the same as GET /v1/experiments/:id/report with
 * `Accept: text/markdown`), read straight from Postgres:
 *   npm run report -- <experiment id> [--json]
 * Reads DATABASE_URL like the API (env.ts; default postgresql://postgres@127.0.0.1:5432/actlab).
 */
import { parseArgs } from "node:util";
import { buildReport } from "../services/reports/build.js";
import { loadReportInput } from "../services/reports/load.js";
import { renderReportMarkdown } from "../services/reports/markdown.js";
import { isUuid } from "../services/uuid.js";
import { cliEnv, fail, withCliDb } from "./common.js";

const USAGE = "usage: npm run report -- <experiment id> [--json]";

async function main() {
  const { positionals, values } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  const [id] = positionals;
  if (values.help || !id) fail(USAGE);
  if (!isUuid(id)) fail(`not an experiment id: ${id}\n${USAGE}`);
  await withCliDb(cliEnv(), async (db) => {
    const input = await loadReportInput(db, { id, tenantId: null });
    if (!input) fail(`experiment ${id} not found`);
    const report = buildReport(input);
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderReportMarkdown(report));
  });
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
