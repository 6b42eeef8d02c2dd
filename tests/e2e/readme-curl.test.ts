import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, type Stack, startStack } from "./stack.js";

/** The README's curl session, exactly as a reader pastes it, aimed at this test's stack. */
function readmeCurlSession(stack: Stack): string {
  const readme = readFileSync(`${ROOT}/README.md`, "utf8");
  const section = readme.slice(readme.indexOf("## A curl session"));
  const block = section.match(/```sh\n([\s\S]*?)```/)?.[1];
  if (!block) throw new Error('README.md has no ```sh block under "## A curl session"');
  const first = "KEY=actlab-dev-key-0000000000; API=http://127.0.0.1:3000;";
  if (!block.startsWith(first)) throw new Error(`the session should start with: ${first}`);
  return block.replace(first, `KEY=${stack.apiKey}; API=${stack.baseUrl};`);
}

let stack: Stack;

describe("the README's curl session", () => {
  // One worker: the runs finish one after the other, so a poll that stops at the first finished
  // run (rather than the finished experiment) prints an experiment still running.
  beforeAll(async () => {
    stack = await startStack({ workers: 1, label: "readme" });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("pasted into bash, waits for the experiment and prints every run's accuracy", async () => {
    const r = spawnSync("bash", ["-c", readmeCurlSession(stack)], { encoding: "utf8", timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);

    const id = r.stdout.match(/^experiment ([0-9a-f-]{36}): (\w+)$/m);
    expect(id?.[2]).toBe("succeeded");
    const res = await fetch(`${stack.baseUrl}/v1/experiments/${id?.[1]}`, {
      headers: { authorization: `Bearer ${stack.apiKey}` },
    });
    const exp = (await res.json()) as {
      status: string;
      runs: { variant: { activation: string }; status: string; testAccuracy: number | null }[];
    };
    expect(exp.status).toBe("succeeded");
    expect(exp.runs.map((run) => run.variant.activation).sort()).toEqual(["relu", "sigmoid"]);

    // console.table's rows: │ index │ 'activation' │ repeat │ 'status' │ testAccuracy │
    const rows = [...r.stdout.matchAll(/│ \d+\s+│ '(\w+)'\s+│ \d+\s+│ '(\w+)'\s+│ ([\d.]+)\s+│/g)];
    expect(rows.map((row) => [row[1], row[2]]).sort()).toEqual([
      ["relu", "succeeded"],
      ["sigmoid", "succeeded"],
    ]);
    for (const run of exp.runs) {
      const printed = rows.find((row) => row[1] === run.variant.activation);
      expect(run.testAccuracy).not.toBeNull();
      expect(Number(printed?.[3])).toBe(run.testAccuracy);
    }
    expect(r.stdout).toContain(`dashboard: ${stack.baseUrl}/experiments/${id?.[1]}`);
  });
});
