import { mkdirSync } from "node:fs";
import { type TExperiment, type TRun, ZExperiment } from "@actlab/contracts";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../packages/db/src/index.js";
import { launchBrowser } from "./browser.js";
import { buildDashboard, ROOT, type Stack, startStack } from "./stack.js";

// Honest states in a real browser: a worker that stops reporting (SIGSTOP, as a hung or
// partitioned machine looks from outside) is shown as such instead of "running ● live", and the
// run's page says so too; when the other worker takes the run over, the page says which epoch
// it resumed from. Timings are shortened so it takes seconds: a run is stale after 3 s without a
// write, and a lost job lock is noticed after 10 s.

const SHOTS = `${ROOT}/artifacts/screenshots`;

let stack: Stack;
let db: Db;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
const paused: number[] = [];

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${stack.baseUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${stack.apiKey}`, "content-type": "application/json", ...init.headers },
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function until<T>(what: string, fn: () => Promise<T | null>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe("honest states in a real browser", () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await buildDashboard();
    stack = await startStack({
      workers: 2,
      label: "states",
      env: {
        RUN_STALE_AFTER_MS: "3000",
        WORKER_LOCK_DURATION_MS: "10000",
        WORKER_STALLED_INTERVAL_MS: "5000",
        CHECKPOINT_INTERVAL_MS: "300",
      },
    });
    db = createDb({ url: stack.databaseUrl, poolSize: 1 });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    await page.goto(stack.baseUrl);
    await page.getByLabel("API key").fill(stack.apiKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Experiments" }).waitFor();
  });

  afterAll(async () => {
    for (const pid of paused) {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        // already gone
      }
    }
    await browser?.close();
    await db?.close();
    await stack?.stop();
  });

  it("shows a run whose worker stopped reporting as stale, then as resumed from its checkpoint", async () => {
    const created = await api<TExperiment>("/v1/experiments", {
      method: "POST",
      body: JSON.stringify({
        name: "a worker stops reporting",
        dataset: { samples: 10_000 },
        model: { hiddenLayers: 4, units: 200 },
        variants: [{ activation: "relu" }],
        training: { epochs: 1000, repeats: 1, batchSize: 50 },
      }),
    });
    const runId = created.runs[0]!.id;
    const run = () => api<TRun>(`/v1/runs/${runId}`);
    await until("two epochs and a checkpoint stored", async () => {
      const cp = await db.kysely
        .selectFrom("checkpoints")
        .select("epoch")
        .where("runId", "=", runId)
        .executeTakeFirst();
      return (await run()).progress.epoch >= 2 && cp ? true : null;
    });

    // Pause the worker that holds the run: it stops writing, heartbeats included.
    const holder = await db.kysely
      .selectFrom("runs")
      .select("workerId")
      .where("id", "=", runId)
      .executeTakeFirst();
    const pid = Number(holder?.workerId?.split(":")[1]);
    expect(stack.workerPids()).toContain(pid);
    process.kill(pid, "SIGSTOP");
    paused.push(pid);

    await page.goto(`${stack.baseUrl}/experiments/${created.id}`);
    const stale = page.locator(`[data-run-id="${runId}"] [data-testid="run-stale"]`);
    await stale.waitFor({ timeout: 30_000 });
    expect(await stale.textContent()).toMatch(
      /no update for \d+ s — another worker will resume it from its checkpoint/,
    );
    expect(await page.locator(".stream").textContent()).toBe("1 run not reporting");
    expect(await page.locator(`[data-stale-run="${runId}"]`).count()).toBe(1);
    await page.screenshot({ path: `${SHOTS}/states-stale-worker.png`, fullPage: true });

    // The run's own page says the same.
    await page.goto(`${stack.baseUrl}/runs/${runId}`);
    await page.getByTestId("run-stale").waitFor({ timeout: 15_000 });

    // The other worker notices the lost lock and resumes the run from its checkpoint.
    const resumed = await until("the other worker to take the run over", async () => {
      const r = await run();
      return r.attempts >= 2 && r.status === "running" && !r.stale ? r : null;
    });
    expect(resumed.resumedFromEpoch).toBeGreaterThanOrEqual(1);
    await page.goto(`${stack.baseUrl}/experiments/${created.id}`);
    const note = page.locator(`[data-run-id="${runId}"] [data-testid="run-resumed"]`);
    await note.waitFor({ timeout: 15_000 });
    expect(await note.textContent()).toBe(`resumed from epoch ${resumed.resumedFromEpoch}`);
    expect(await page.locator(`[data-run-id="${runId}"] [data-testid="run-stale"]`).count()).toBe(0);
    expect(await page.locator(".stream").textContent()).not.toMatch(/not reporting/);
    await page.screenshot({ path: `${SHOTS}/states-resumed.png`, fullPage: true });

    // Done with it: the paused worker wakes up fenced out, the run is canceled.
    process.kill(pid, "SIGCONT");
    const canceled = ZExperiment.parse(await api(`/v1/experiments/${created.id}/cancel`, { method: "POST" }));
    expect(canceled.runs[0]!.status === "running" || canceled.runs[0]!.status === "canceled").toBe(true);
  });
});
