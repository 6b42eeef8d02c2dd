import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { ROOT } from "./support/paths.js";
import { RESULTS_FILE, type ScenarioResult } from "./support/results.js";
import { ensureServicesUp } from "./support/services.js";

const startedAt = Date.now();

/**
 * Builds the apps exactly as scripts/start.ts does (`npx tsc -b`, incremental), so the
 * scenarios run the same dist/ files as `npm start`; clears the previous results.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const r = spawnSync("npx", ["tsc", "-b"], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) {
    // A source tree that does not build (work in progress) must not block the suite when a build exists already.
    process.stdout.write(
      `[reliability] warning: npx tsc -b failed; using the existing dist/\n${r.stdout.slice(0, 2000)}\n`,
    );
  }
  rmSync(RESULTS_FILE, { force: true });
  return async () => {
    await ensureServicesUp();
    if (!existsSync(RESULTS_FILE)) return;
    const rows = readFileSync(RESULTS_FILE, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ScenarioResult)
      .filter((x) => Date.parse(x.at) >= startedAt);
    const table = [
      "| scenario | result | figure | time |",
      "| --- | --- | --- | --- |",
      ...rows.map(
        (x) =>
          `| ${x.scenario} | ${x.pass ? "pass" : "**FAIL**"} | ${x.figure.replace(/\|/g, "\\|")} | ${x.seconds.toFixed(0)} s |`,
      ),
    ].join("\n");
    process.stdout.write(`\n[reliability] results (${new Date().toISOString().slice(0, 10)}):\n${table}\n`);
  };
}
