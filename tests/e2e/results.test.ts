import { mkdirSync, readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./browser.js";
import { buildDashboard, ROOT, type Stack, startStack } from "./stack.js";

// Working with results in Chromium against the real service (API + one worker): chart
// interactions, downloads, continue, clone and compare.

const SHOTS = `${ROOT}/artifacts/screenshots`;
let stack: Stack;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
const consoleErrors: string[] = [];
const ids: { a: string; b: string } = { a: "", b: "" };

const TINY = {
  dataset: { samples: 300 },
  model: { hiddenLayers: 2, units: 16 },
  training: { epochs: 3, repeats: 1, batchSize: 50, optimizer: { learningRate: 0.05 } },
};

async function api(path: string, init: { method?: string; body?: unknown } = {}) {
  const res = await fetch(`${stack.baseUrl}${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${stack.apiKey}`, "content-type": "application/json" },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function waitForStatus(id: string, statuses: string[], timeoutMs = 240_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api(`/v1/experiments/${id}`);
    if (statuses.includes(body.status as string)) return body;
    if (Date.now() > deadline) throw new Error(`experiment ${id} still ${body.status}`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** The text of a download the click starts, and its file name. */
async function download(click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
  const [d] = await Promise.all([page.waitForEvent("download"), click()]);
  return { name: d.suggestedFilename(), bytes: readFileSync((await d.path())!) };
}

/** Moves the mouse over a chart's plot area at a fraction of its width. */
async function hover(testId: string, fx: number) {
  const box = (await page.getByTestId(testId).locator(".u-over").boundingBox())!;
  await page.mouse.move(box.x + box.width * fx, box.y + box.height / 2);
}

describe("results in a real browser", () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await buildDashboard();
    stack = await startStack({ workers: 1, label: "results" });
    const a = await api("/v1/experiments", {
      method: "POST",
      body: { ...TINY, name: "e2e results A", variants: [{ activation: "relu" }, { activation: "sigmoid" }] },
    });
    const b = await api("/v1/experiments", {
      method: "POST",
      body: {
        ...TINY,
        name: "e2e results B",
        variants: [{ activation: "relu" }, { activation: "leaky_relu", alpha: 0.1 }],
        training: { ...TINY.training, optimizer: { learningRate: 0.1 } },
      },
    });
    ids.a = a.body.id as string;
    ids.b = b.body.id as string;
    await waitForStatus(ids.a, ["succeeded"]);
    await waitForStatus(ids.b, ["succeeded"]);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
    await page.goto(stack.baseUrl);
    await page.evaluate(`localStorage.setItem("actlab.apiKey", ${JSON.stringify(stack.apiKey)})`);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("hovers every series' value at an epoch, hides and isolates series from the legend, toggles log and resets zoom", async () => {
    await page.goto(`${stack.baseUrl}/experiments/${ids.a}`);
    const loss = page.getByTestId("chart-loss");
    await expect.poll(() => loss.getAttribute("data-points")).toBe("6");

    await hover("chart-loss", 0.98);
    const tip = page.getByTestId("chart-loss-hover");
    await expect.poll(() => tip.textContent()).toMatch(/^epoch 3/);
    expect(await tip.locator(".legend-item").allTextContents()).toEqual([
      expect.stringMatching(/^relu \d/),
      expect.stringMatching(/^sigmoid \d/),
    ]);

    // Click: hide sigmoid (its key is struck through, its value leaves the hover).
    const sigmoidKey = loss.getByRole("button", { name: "sigmoid" });
    await sigmoidKey.click();
    expect(await sigmoidKey.getAttribute("aria-pressed")).toBe("false");
    await hover("chart-loss", 0.97);
    expect(await tip.locator(".legend-item").allTextContents()).toEqual([expect.stringMatching(/^relu /)]);
    await sigmoidKey.click();
    // Double click: relu alone; again: everything back.
    const reluKey = loss.getByRole("button", { name: "relu" });
    await reluKey.dblclick();
    expect(await sigmoidKey.getAttribute("aria-pressed")).toBe("false");
    expect(await reluKey.getAttribute("aria-pressed")).toBe("true");
    await reluKey.dblclick();
    expect(await sigmoidKey.getAttribute("aria-pressed")).toBe("true");

    // Log/linear on the loss chart; the gradient profile starts on log.
    expect(await loss.getAttribute("data-y-log")).toBe("false");
    await page.getByTestId("chart-loss-log").click();
    await expect.poll(() => loss.getAttribute("data-y-log")).toBe("true");
    expect(await page.getByTestId("chart-gradient-profile").getAttribute("data-y-log")).toBe("true");
    await page.getByTestId("chart-gradient-profile-log").click();
    await expect
      .poll(() => page.getByTestId("chart-gradient-profile").getAttribute("data-y-log"))
      .toBe("false");

    // The per-epoch small multiples switch together.
    expect(await page.getByTestId("chart-gradflow-1").getAttribute("data-y-log")).toBe("true");
    await page.getByTestId("chart-gradflow-log").click();
    await expect.poll(() => page.getByTestId("chart-gradflow-1").getAttribute("data-y-log")).toBe("false");

    // A dragged zoom shows a reset button, which brings the full range back.
    const box = (await loss.locator(".u-over").boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.1, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    const reset = page.getByTestId("chart-loss-reset-zoom");
    await reset.waitFor();
    await reset.click();
    await reset.waitFor({ state: "detached" });
    await page.screenshot({ path: `${SHOTS}/results-01-chart-interactions.png`, fullPage: true });
  });

  it("downloads a chart's data as CSV (with the faint raw line when smoothed) and the chart as PNG", async () => {
    // The slider moves in steps of 0.05: twelve steps right is 0.6.
    await page.getByTestId("smoothing").focus();
    for (let i = 0; i < 12; i++) await page.keyboard.press("ArrowRight");
    await expect.poll(() => page.getByTestId("smoothing").inputValue()).toBe("0.6");
    const acc = page.getByTestId("chart-accuracy");
    const csv = await download(() => acc.getByRole("button", { name: "CSV", exact: true }).click());
    expect(csv.name).toBe("test-accuracy.csv");
    const rows: Record<string, string>[] = parse(csv.bytes.toString("utf8"), { columns: true });
    expect(rows.map((r) => r.epoch)).toEqual(["1", "2", "3"]);
    expect(Object.keys(rows[0]!)).toEqual([
      "epoch",
      "relu",
      "relu +σ",
      "relu −σ",
      "relu raw",
      "sigmoid",
      "sigmoid +σ",
      "sigmoid −σ",
      "sigmoid raw",
    ]);
    // Smoothed line and raw line differ after the first epoch; the raw one is the stored accuracy.
    const { body } = await api(`/v1/experiments/${ids.a}/metrics?fields=testAccuracy`);
    const reluRun = (
      body.runs as Array<{ variant: { activation: string }; series: { testAccuracy: number[] } }>
    ).find((r) => r.variant.activation === "relu")!;
    expect(rows.map((r) => Number(r["relu raw"]))).toEqual(reluRun.series.testAccuracy);
    expect(Number(rows[2]!.relu)).not.toBe(Number(rows[2]!["relu raw"]));

    const png = await download(() => acc.getByRole("button", { name: "PNG", exact: true }).click());
    expect(png.name).toBe("test-accuracy.png");
    expect(png.bytes.subarray(1, 4).toString("latin1")).toBe("PNG");
    expect(png.bytes.length).toBeGreaterThan(2_000);
  });

  it("downloads every metric as metrics.csv: one row per run × epoch", async () => {
    const file = await download(() => page.getByRole("button", { name: "metrics.csv" }).click());
    expect(file.name).toBe("e2e-results-a-metrics.csv");
    const rows: Record<string, string>[] = parse(file.bytes.toString("utf8"), { columns: true });
    expect(rows).toHaveLength(2 * 3);
    expect(rows.map((r) => [r.activation, r.epoch])).toEqual([
      ["relu", "1"],
      ["relu", "2"],
      ["relu", "3"],
      ["sigmoid", "1"],
      ["sigmoid", "2"],
      ["sigmoid", "3"],
    ]);
    expect(Object.keys(rows[0]!)).toContain("gradNorm_3");
  });

  it("continues the finished experiment to more epochs from the page, each epoch stored once", async () => {
    await page.getByLabel("continue to this many epochs in total").fill("5");
    await page.getByRole("button", { name: "Continue", exact: true }).click();
    await page
      .locator('[data-experiment-status="succeeded"]')
      .waitFor({ state: "detached", timeout: 30_000 });
    // It trains again, live, then finishes with 5 epochs per run.
    await page.locator('[data-experiment-status="succeeded"]').waitFor({ timeout: 240_000 });
    await expect
      .poll(() => page.getByTestId("chart-loss").getAttribute("data-points"), { timeout: 30_000 })
      .toBe("10");
    const { body } = await api(`/v1/experiments/${ids.a}/metrics?fields=testLoss`);
    for (const run of body.runs as Array<{ series: { epoch: number[] } }>) {
      expect(run.series.epoch).toEqual([1, 2, 3, 4, 5]);
    }
    const exp = await api(`/v1/experiments/${ids.a}`);
    expect((exp.body.spec as { training: { epochs: number } }).training.epochs).toBe(5);
    await page.screenshot({ path: `${SHOTS}/results-02-continued.png`, fullPage: true });
  });

  it("clones an experiment into the form", async () => {
    await page.getByRole("button", { name: "Clone" }).click();
    await page.waitForURL(/\/new\?clone=/);
    await page.getByTestId("cloned-from").waitFor();
    expect(await page.getByLabel("Name").inputValue()).toBe("e2e results A (copy)");
    expect(await page.locator('input[name="training.epochs"]').inputValue()).toBe("5");
    expect(await page.locator('input[name="dataset.samples"]').inputValue()).toBe("300");
  });

  it("compares two experiments picked in the list: what differs, variants side by side, curves overlaid", async () => {
    await page.goto(stack.baseUrl);
    await page.getByLabel("compare e2e results A").check();
    await page.getByLabel("compare e2e results B").check();
    await page.getByRole("link", { name: "Compare 2" }).click();
    await page.getByTestId("compare-page").waitFor();
    const diffs = await page
      .getByTestId("compare-differences")
      .locator("tbody tr td:first-child")
      .allTextContents();
    // In the spec's order (A was continued to 5 epochs, B has 3 and another learning rate).
    expect(diffs).toEqual(["variants", "training.optimizer.learningRate", "training.epochs"]);
    const rows = page.getByTestId("compare-rows").locator("tbody tr");
    expect(await rows.locator("td:first-child").allTextContents()).toEqual([
      "relu",
      "sigmoid",
      "leaky_relu(alpha=0.1)",
    ]);
    expect(await rows.nth(1).locator("td").last().textContent()).toBe("—"); // sigmoid is not in B
    await expect
      .poll(() => page.getByTestId("compare-accuracy").getAttribute("data-points"))
      .toBe(String(2 * 5 + 2 * 3));
    expect(await page.getByTestId("compare-accuracy").getByRole("button").allTextContents()).toEqual(
      expect.arrayContaining(["relu · #1", "relu · #2", "leaky_relu(alpha=0.1) · #2"]),
    );
    await page.screenshot({ path: `${SHOTS}/results-03-compare.png`, fullPage: true });
    expect(consoleErrors).toEqual([]);
  });
});
