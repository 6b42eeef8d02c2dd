import { mkdirSync } from "node:fs";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./browser.js";
import { buildDashboard, ROOT, type Stack, startStack } from "./stack.js";

const SHOTS = `${ROOT}/artifacts/screenshots`;

/**
 * The vanishing-depth preset, shrunk so it trains in about a minute (1,000 digits, 32 units, depths
 * 1 and 5, 6 epochs at lr 0.1, 2 repeats; measured with this trainer: sigmoid 80% → 8%, relu
 * 86% → 81%), trained for real by the stack's worker, then read in Chromium.
 */
const SHRUNK = {
  preset: "vanishing-depth",
  name: "e2e: vanishing depth, shrunk",
  dataset: { samples: 1000 },
  model: { units: 32 },
  variants: [{ activation: "sigmoid" }, { activation: "relu" }],
  sweep: { "model.hiddenLayers": [1, 5] },
  training: { epochs: 6, repeats: 2, batchSize: 20, optimizer: { learningRate: 0.1 } },
};

let stack: Stack;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
let experimentId: string;
const consoleErrors: string[] = [];

async function api(path: string, init: RequestInit = {}) {
  const res = await fetch(`${stack.baseUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${stack.apiKey}`, "content-type": "application/json", ...init.headers },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function heat(cell: string, variant: string): Promise<number> {
  const v = await page.getAttribute(
    `[data-testid="sweep-heatmap"] td[data-cell="${cell}"][data-variant="${variant}"]`,
    "data-value",
  );
  return Number(v);
}

describe("a depth sweep in a real browser", () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await buildDashboard();
    stack = await startStack({ workers: 1, label: "e2e_sweep" });
    const created = await api("/v1/experiments", { method: "POST", body: JSON.stringify(SHRUNK) });
    expect(created.status).toBe(202);
    experimentId = created.body["id"] as string;
    const deadline = Date.now() + 300_000;
    for (;;) {
      const { body } = await api(`/v1/experiments/${experimentId}`);
      if (["succeeded", "failed", "partial", "canceled"].includes(body["status"] as string)) {
        expect(body["status"]).toBe("succeeded");
        break;
      }
      if (Date.now() > deadline) throw new Error("the shrunk sweep did not finish in 5 minutes");
      await new Promise((r) => setTimeout(r, 2_000));
    }
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    await page.addInitScript(`localStorage.setItem("actlab.apiKey", ${JSON.stringify(stack.apiKey)})`);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("shows sigmoid's accuracy falling with depth while relu's does not, and its gradient vanishing", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    const metricsRequests: string[] = [];
    page.on("request", (r) => {
      if (new URL(r.url()).pathname.endsWith("/metrics")) metricsRequests.push(r.url());
    });
    await page.goto(`${stack.baseUrl}/experiments/${experimentId}`);
    await page.getByTestId("sweep-heatmap").waitFor();
    const sigmoid1 = await heat("layers=1", "sigmoid");
    const sigmoid5 = await heat("layers=5", "sigmoid");
    const relu1 = await heat("layers=1", "relu");
    const relu5 = await heat("layers=5", "relu");
    expect(sigmoid1).toBeGreaterThan(0.5);
    expect(sigmoid5).toBeLessThan(0.25);
    expect(relu5).toBeGreaterThan(0.6);
    expect(relu1 - relu5).toBeLessThan(sigmoid1 - sigmoid5);

    // The depth curves: 2 variants × 2 depths, drawn.
    await expect
      .poll(async () =>
        Number(await page.getAttribute('[data-testid="chart-depth-accuracy"]', "data-points")),
      )
      .toBe(4);
    expect(Number(await page.getAttribute('[data-testid="chart-depth-gradient"]', "data-points"))).toBe(4);

    // The gradient ratio view: sigmoid's deep ratio is orders of magnitude below relu's.
    await page.getByRole("button", { name: "gradient ratio" }).click();
    await page.locator('[data-testid="sweep-heatmap"][data-metric="gradRatio"]').waitFor();
    expect(await heat("layers=5", "sigmoid")).toBeLessThan((await heat("layers=5", "relu")) / 10);
    await page.screenshot({ path: `${SHOTS}/10-sweep-depth-desktop.png`, fullPage: true });

    // Filtered to the deep cell: the learning curves show its 4 runs only, and the verdicts speak.
    await page.getByTestId("cell-filter").selectOption({ label: "layers=5" });
    await expect
      .poll(async () => Number(await page.getAttribute('[data-testid="chart-accuracy"]', "data-points")))
      .toBe(12);
    const verdicts = await page.getByTestId("verdicts").textContent();
    expect(verdicts).toMatch(/relu beats sigmoid|relu leads sigmoid|sigmoid and relu do not differ/);
    expect(await page.getByTestId("gradient-verdicts").textContent()).toContain("sigmoid: the gradient");
    // A row is highlighted only with a significant leader.
    const leader = await page.getByTestId("leader").textContent();
    const highlighted = await page.locator('[data-testid="summary-table"] tr.best').count();
    expect(highlighted).toBe(leader?.includes("leads") ? 1 : 0);
    await page.screenshot({ path: `${SHOTS}/11-sweep-cell-desktop.png`, fullPage: true });
    // A sweep's page asks for one cell's metrics at a time, never for every run's.
    expect(metricsRequests.length).toBeGreaterThanOrEqual(2);
    for (const url of metricsRequests) expect(new URL(url).searchParams.has("cell"), url).toBe(true);
    expect(consoleErrors).toEqual([]);
  });
});
