import { mkdirSync, readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { smallRequest } from "../support/fixtures.js";
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
    // Once the page has loaded everything: a click right after the first render was seen lost
    // (the legend's state reset), at no load and at load 12.
    await page.waitForLoadState("networkidle");
    await sigmoidKey.click();
    await expect.poll(() => sigmoidKey.getAttribute("aria-pressed")).toBe("false");
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
    // It trains again, then finishes with 5 epochs per run. Two more tiny epochs take milliseconds
    // on the native engine, so the page may never show it running (CI: waiting for "succeeded" to
    // go away timed out): wait for the outcome in the API, then on the page.
    await expect
      .poll(
        async () => {
          const { body } = await api(`/v1/experiments/${ids.a}`);
          return [(body.spec as { training: { epochs: number } }).training.epochs, body.status];
        },
        { timeout: 240_000 },
      )
      .toEqual([5, "succeeded"]);
    await page.locator('[data-experiment-status="succeeded"]').waitFor({ timeout: 30_000 });
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

  it("sorts the list by best accuracy, kept in the URL", async () => {
    await page.goto(stack.baseUrl);
    await page.locator("[data-experiment-id]").first().waitFor();
    await page.getByLabel("Sort").selectOption({ label: "best accuracy" });
    await page.waitForURL(/[?&]sort=accuracy/);
    const { body } = await api("/v1/experiments?sort=accuracy");
    const items = body.items as Array<{ id: string; best: { testAccuracy: number } | null }>;
    const accuracies = items.map((e) => e.best?.testAccuracy ?? -1);
    expect(accuracies).toEqual([...accuracies].sort((x, y) => y - x));
    const shown = () =>
      page
        .locator("[data-experiment-id]")
        .evaluateAll((els) => els.map((e) => e.getAttribute("data-experiment-id")));
    await expect.poll(shown).toEqual(items.map((e) => e.id));
    await page.reload();
    expect(await page.getByLabel("Sort").inputValue()).toBe("accuracy");
    await expect.poll(shown).toEqual(items.map((e) => e.id));
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

  it("estimates before submitting: the form's total and each preset's quick and full version, from the measured pace", async () => {
    await page.goto(`${stack.baseUrl}/new?preset=chapter8-keras&version=quick`);
    const quick = page.locator('input[name="preset"][value="chapter8-keras:quick"]');
    expect(await quick.isChecked()).toBe(true);
    expect(await page.locator('input[name="training.epochs"]').inputValue()).toBe("10");
    expect(await page.locator('input[name="training.repeats"]').inputValue()).toBe("1");
    // The finished experiments of this stack are the measurement; its one worker the parallelism.
    const seconds = async (testId: string) => {
      const el = page.getByTestId(testId);
      await expect.poll(() => el.getAttribute("data-seconds"), { timeout: 20_000 }).toMatch(/^\d/);
      return Number(await el.getAttribute("data-seconds"));
    };
    const quickSeconds = await seconds("estimate-chapter8-keras:quick");
    const fullSeconds = await seconds("estimate-chapter8-keras");
    expect(await page.getByTestId("estimate-chapter8-keras:quick").textContent()).toMatch(
      /^≈ .+ on 1 worker$/,
    );
    const fromApi = await api("/v1/experiments/estimate", {
      method: "POST",
      body: { preset: "chapter8-keras", training: { epochs: 10, repeats: 1 } },
    });
    expect(fromApi.status).toBe(200);
    expect(quickSeconds).toBeCloseTo(fromApi.body.seconds as number, 6);
    // Full: 100× the epochs and 3× the runs of quick, on one worker.
    expect(fullSeconds / quickSeconds).toBeCloseTo(300, 6);
    // The form's own total follows its fields: the quick spec with 20 epochs is twice quick.
    expect(await seconds("estimate")).toBeCloseTo(quickSeconds, 6);
    await page.locator('input[name="training.epochs"]').fill("20");
    await expect
      .poll(async () => Number(await page.getByTestId("estimate").getAttribute("data-seconds")), {
        timeout: 20_000,
      })
      .toBeCloseTo(2 * quickSeconds, 6);
    await page.screenshot({ path: `${SHOTS}/results-04-estimates.png`, fullPage: true });
  });

  it("shows a running experiment's time left at its own pace", async () => {
    // Big enough to still be training when the page has loaded on an idle machine (2×64 units on
    // 2,000 samples, 40 epochs, was done in 0.9 s).
    const spec = smallRequest("e2e eta", { samples: 4_000, net: [2, 128], epochs: 60 });
    const before = await api("/v1/experiments/estimate", { method: "POST", body: spec });
    const created = await api("/v1/experiments", { method: "POST", body: spec });
    const id = created.body.id as string;
    await page.goto(`${stack.baseUrl}/experiments/${id}`);
    const eta = page.getByTestId("eta");
    await expect.poll(() => eta.getAttribute("data-seconds"), { timeout: 60_000 }).toMatch(/^\d/);
    expect(await eta.textContent()).toMatch(/^≈ .+ left at this experiment's pace, one run at a time$/);
    await page.screenshot({ path: `${SHOTS}/results-05-eta.png`, fullPage: true });
    const done = await waitForStatus(id, ["succeeded"]);
    await eta.waitFor({ state: "detached" }); // finished: no time left to show
    const wall = (Date.parse(done.finishedAt as string) - Date.parse(done.startedAt as string)) / 1000;
    // For the report: how the estimate made before submitting compares with what it took.
    console.log(
      `eta: estimated ${before.body.seconds} s before submitting, took ${wall} s (${before.body.note})`,
    );
  });

  it("continues a partial experiment: the succeeded runs train on, the page says why the failed one does not", async () => {
    // ReLU on raw 0–255 pixels at learning rate 10 diverges in its first epoch (a run that fails
    // at once); sigmoid's bounded outputs keep the same training finite.
    const created = await api("/v1/experiments", {
      method: "POST",
      body: {
        ...TINY,
        name: "e2e partial",
        dataset: { samples: 300, pixelScale: "raw" },
        model: { hiddenLayers: 4, units: 64 },
        variants: [{ activation: "sigmoid" }, { activation: "relu" }],
        training: { ...TINY.training, optimizer: { learningRate: 10 } },
      },
    });
    const id = created.body.id as string;
    const partial = await waitForStatus(id, ["partial", "succeeded", "failed"]);
    expect(partial.status).toBe("partial");
    const [sigmoid, relu] = partial.runs as Array<{ id: string; status: string }>;
    expect([sigmoid!.status, relu!.status]).toEqual(["succeeded", "failed"]);

    await page.goto(`${stack.baseUrl}/experiments/${id}`);
    await page.getByLabel("continue to this many epochs in total").fill("5");
    await page.getByRole("button", { name: "Continue", exact: true }).click();
    const left = page.getByTestId("not-continued");
    await left.waitFor();
    expect(await left.locator("li").allTextContents()).toEqual([
      "relu, repeat 0: the run failed; only succeeded runs can continue",
    ]);
    await page.locator('[data-experiment-status="partial"]').waitFor({ timeout: 240_000 });
    const after = await api(`/v1/experiments/${id}`);
    const runs = after.body.runs as Array<{ status: string; progress: { epoch: number; epochs: number } }>;
    // sigmoid trained on to 5; relu stays failed with its 3 planned epochs.
    expect(runs.map((r) => [r.status, r.progress.epochs])).toEqual([
      ["succeeded", 5],
      ["failed", 3],
    ]);
    expect(runs[0]!.progress.epoch).toBe(5);
    await page.screenshot({ path: `${SHOTS}/results-06-partial-continued.png`, fullPage: true });
    expect(consoleErrors).toEqual([]);
  });
});
