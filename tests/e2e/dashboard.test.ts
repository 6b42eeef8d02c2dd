import { mkdirSync, readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./browser.js";
import { buildDashboard, ROOT, type Stack, startStack } from "./stack.js";

const SHOTS = `${ROOT}/artifacts/screenshots`;
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

let stack: Stack;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
const consoleErrors: string[] = [];

async function shot(name: string, opts: { phone?: boolean } = {}) {
  await page.setViewportSize(opts.phone ? PHONE : DESKTOP);
  await page.waitForTimeout(400); // charts follow their container's width on resize
  // Full-page captures draw the sticky top bar where the page is scrolled to: start at the top.
  await page.evaluate("window.scrollTo(0, 0)");
  await page.screenshot({ path: `${SHOTS}/${name}-${opts.phone ? "phone" : "desktop"}.png`, fullPage: true });
}

async function shots(name: string) {
  await shot(name, { phone: true });
  await shot(name);
}

/** Points a chart reports drawing (the data-points attribute set by the UPlot component). */
async function chartPoints(testId: string): Promise<number> {
  return Number(await page.getAttribute(`[data-testid="${testId}"]`, "data-points"));
}

/** Counts canvas pixels that are neither transparent nor the same as the top-left corner. */
async function inkedPixels(selector: string): Promise<number> {
  return page.$eval(selector, (el) => {
    const canvas = el.querySelector("canvas");
    if (!canvas) return 0;
    const ctx = canvas.getContext("2d");
    if (!ctx) return 0;
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if ((data[i + 3] ?? 0) > 0) n++;
    return n;
  });
}

/** Whether the form test left the stack's workers paused (SIGSTOP) for the live-watch test. */
let paused = false;
function resumeWorkers(): void {
  if (!paused) return;
  paused = false;
  for (const pid of stack.workerPids()) process.kill(pid, "SIGCONT");
}

describe("dashboard in a real browser", () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await buildDashboard();
    stack = await startStack({ workers: 1 });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
  });

  afterAll(async () => {
    resumeWorkers();
    await browser?.close();
    await stack?.stop();
  });

  it("signs in, rejecting a wrong key with a clear message", async () => {
    await page.goto(stack.baseUrl);
    const keyInput = page.getByLabel("API key");
    await keyInput.fill("definitely-not-a-valid-key-000000");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("That API key was not accepted").waitFor();
    await shots("01-sign-in-wrong-key");

    await keyInput.fill(stack.apiKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Experiments" }).waitFor();
    await page.getByText("No experiments yet.").waitFor();
    expect(await page.evaluate("localStorage.getItem('actlab.apiKey')")).toBe(stack.apiKey);
  });

  it("checks the form before submitting, in its own words and focused on the bad field, then creates a tiny chapter-preset experiment", async () => {
    await page.getByRole("link", { name: "New experiment" }).first().click();
    await page.locator('input[name="preset"][value="chapter8-keras"]').check();
    await page.getByLabel("Name").fill("e2e: chapter 8, tiny");

    // Keep sigmoid and relu: remove tanh, then everything after relu.
    await page.getByRole("button", { name: "Remove variant 2" }).click();
    while ((await page.locator("[data-variant-index]").count()) > 2) {
      await page.getByRole("button", { name: "Remove variant 3" }).click();
    }
    await page.locator('input[name="dataset.samples"]').fill("500");
    await page.locator('input[name="model.hiddenLayers"]').fill("2");
    await page.locator('input[name="model.units"]').fill("16");
    await page.locator('input[name="training.repeats"]').fill("1");

    // An out-of-range value is caught by the form itself, in its own words: nothing is sent, and
    // focus moves to the field to fix. (The API's own 400 for it is tested in the API's tests.)
    await page.locator('input[name="training.epochs"]').fill("5000");
    let posted = 0;
    const count = (r: { url(): string; method(): string }) => {
      if (r.url().endsWith("/v1/experiments") && r.method() === "POST") posted++;
    };
    page.on("request", count);
    await page.getByRole("button", { name: "Start experiment" }).click();
    const fieldError = page.locator('[data-error-for="training.epochs"]');
    await fieldError.waitFor();
    expect(await fieldError.textContent()).toBe("at most 1,000 epochs");
    await expect
      .poll(() => page.evaluate("document.activeElement?.getAttribute('name')"))
      .toBe("training.epochs");
    expect(posted).toBe(0);
    page.off("request", count);
    await shots("02-new-experiment-validation");

    await page.locator('input[name="training.epochs"]').fill("2");
    await expect.poll(() => fieldError.count()).toBe(0);
    expect(await page.getByTestId("workload").textContent()).toContain("2 runs");
    // On the native engine these 2 tiny runs train in milliseconds, before the page's event
    // stream opens: the worker is paused (SIGSTOP) until the next test sees the stream live.
    for (const pid of stack.workerPids()) process.kill(pid, "SIGSTOP");
    paused = true;
    const [created] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/v1/experiments") && r.request().method() === "POST"),
      page.getByRole("button", { name: "Start experiment" }).click(),
    ]);
    expect(created.status()).toBe(202);
    await page.waitForURL(/\/experiments\/[0-9a-f-]+$/);
  });

  it("watches the experiment train live to succeeded and draws the charts", async () => {
    try {
      await page.locator(".stream-live").waitFor({ timeout: 60_000 });
    } finally {
      resumeWorkers();
    }
    await page.locator('[data-experiment-status="succeeded"]').waitFor({ timeout: 300_000 });

    const runs = page.locator("[data-run-status]");
    expect(await runs.count()).toBe(2);
    for (const status of await runs.evaluateAll((els) => els.map((e) => e.getAttribute("data-run-status")))) {
      expect(status).toBe("succeeded");
    }

    // 2 variants × 2 epochs of test accuracy; gradient norms for 2 hidden layers + output.
    await expect.poll(() => chartPoints("chart-accuracy")).toBe(4);
    expect(await chartPoints("chart-loss")).toBe(4);
    expect(await chartPoints("chart-gradient-profile")).toBe(6);
    expect(await chartPoints("chart-gradflow-0")).toBe(6);
    expect(await chartPoints("chart-gradflow-1")).toBe(6);
    expect(await inkedPixels('[data-testid="chart-accuracy"]')).toBeGreaterThan(500);
    expect(await inkedPixels('[data-testid="chart-gradient-profile"]')).toBeGreaterThan(500);
    expect(await page.getByTestId("summary-table").locator("tbody tr").count()).toBe(2);

    // The summary leaves the page as CSV (a download) and as Markdown (the clipboard).
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download CSV" }).click(),
    ]);
    const csv = readFileSync((await download.path())!, "utf8")
      .trim()
      .split(/\r?\n/);
    expect(csv[0]).toMatch(/^activation,runs,test_accuracy_mean/);
    expect(csv.slice(1).map((l) => l.split(",")[0])).toEqual(["sigmoid", "relu"]);
    await page.getByRole("button", { name: "Copy as Markdown" }).click();
    await page.getByRole("button", { name: "Copied ✓" }).waitFor();
    const markdown = String(await page.evaluate("navigator.clipboard.readText()"));
    expect(markdown.split("\n")[0]).toContain("| activation | runs | test accuracy (%) |");
    expect(markdown).toContain("| relu | 1 |");
    await shots("03-experiment-succeeded");

    await page.getByRole("link", { name: "Experiments" }).first().click();
    await page.locator("[data-experiment-id]").first().waitFor();
    expect(await page.locator(".exp-item .badge").first().textContent()).toBe("succeeded");
    await shots("04-experiments-list");
  });

  it("draws a digit on a finished run and gets a prediction", async () => {
    await page.locator("[data-experiment-id] a").first().click();
    await page.getByRole("link", { name: "relu", exact: true }).click();
    await page.waitForURL(/\/runs\/[0-9a-f-]+$/);
    // What trained it: the worker's engine and the checkout's commit.
    const provenance = page.getByTestId("run-provenance");
    await provenance.waitFor();
    expect(await provenance.textContent()).toMatch(
      /Commit[0-9a-f]{12}.*Engine(wasm|cpu|tensorflow|native) \d+\.\d+/s,
    );
    const canvas = page.getByTestId("digit-canvas");
    await canvas.waitFor();
    const box = (await canvas.boundingBox())!;
    // A "7": top bar, then the diagonal down.
    const at = (fx: number, fy: number) => [box.x + box.width * fx, box.y + box.height * fy] as const;
    await page.mouse.move(...at(0.3, 0.25));
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(...at(0.3 + 0.4 * (i / 10), 0.25));
    for (let i = 1; i <= 12; i++) await page.mouse.move(...at(0.7 - 0.25 * (i / 12), 0.25 + 0.55 * (i / 12)));
    await page.mouse.up();

    const [res] = await Promise.all([
      page.waitForResponse((r) => /\/v1\/runs\/[^/]+\/predict$/.test(r.url())),
      page.getByTestId("predict-button").click(),
    ]);
    expect(res.status()).toBe(200);
    const prediction = page.getByTestId("prediction");
    await expect.poll(() => prediction.getAttribute("data-class")).toMatch(/^[0-9]$/);
    expect(await prediction.locator(".probs li").count()).toBe(10);
    await shots("05-run-prediction");
  });

  it("cancels a running experiment from its page, then deletes it", async () => {
    const res = await fetch(`${stack.baseUrl}/v1/experiments`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        preset: "chapter8-keras",
        name: "e2e: cancel me",
        // ~40 s of training on the native engine, so it is still running when the page cancels it
        // (500 epochs of batch 100 took ~3 s: too close to the page load and the click).
        dataset: { samples: 2000 },
        model: { hiddenLayers: 2, units: 16 },
        variants: [{ activation: "relu" }],
        training: { epochs: 1000, repeats: 1, batchSize: 1 },
      }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await page.goto(`${stack.baseUrl}/experiments/${id}`);
    await page.locator('[data-run-status="running"]').waitFor({ timeout: 120_000 });
    page.once("dialog", (d) => void d.accept());
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.locator('[data-experiment-status="canceled"]').waitFor({ timeout: 60_000 });
    expect(await page.locator("[data-run-status]").first().getAttribute("data-run-status")).toBe("canceled");

    // A finished experiment can be deleted; the list no longer shows it.
    page.once("dialog", (d) => void d.accept());
    await page.getByRole("button", { name: "Delete" }).click();
    await page.waitForURL(`${stack.baseUrl}/`);
    await page.locator("[data-experiment-id]").first().waitFor();
    expect(await page.locator(`[data-experiment-id="${id}"]`).count()).toBe(0);
    expect(await page.locator("[data-experiment-id]").count()).toBe(1);
  });

  it("serves /docs (Swagger UI) within its own Content-Security-Policy, every operation rendered", async () => {
    const docs = await browser.context.newPage();
    const problems: string[] = [];
    docs.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });
    docs.on("pageerror", (e) => problems.push(String(e)));
    await docs.addInitScript(() => {
      // Runs in the page, where the DOM exists; this file is typed without the DOM library.
      (globalThis as unknown as { document: EventTarget }).document.addEventListener(
        "securitypolicyviolation",
        (
          e: Event & {
            violatedDirective?: string;
            blockedURI?: string;
            sourceFile?: string;
            lineNumber?: number;
          },
        ) => {
          console.error(
            `CSP violation: ${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`,
          );
        },
      );
    });
    const res = await docs.goto(`${stack.baseUrl}/docs`);
    expect(res?.headers()["content-security-policy"]).toMatch(/style-src 'self' https: ;/); // no 'unsafe-inline'
    const doc = (await (await fetch(`${stack.baseUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.values(doc.paths).reduce((n, p) => n + Object.keys(p).length, 0);
    await expect.poll(() => docs.locator(".opblock").count(), { timeout: 20_000 }).toBe(operations);
    // Open one operation and its form: what renders on demand stays within the policy too.
    await docs.locator(".opblock-summary").first().click();
    await docs.getByRole("button", { name: "Try it out" }).first().click();
    await docs.locator(".opblock-body .execute").first().waitFor();
    await docs.screenshot({ path: `${SHOTS}/07-docs.png` });
    await docs.close();
    expect(problems).toEqual([]);
  });

  it("shows the activation gallery with the chapter's figures", async () => {
    await page.getByRole("link", { name: "Activations" }).click();
    await page.getByTestId("figure-8-2").waitFor();
    expect(await chartPoints("figure-8-2")).toBeGreaterThan(20);
    expect(await chartPoints("activation-sigmoid")).toBeGreaterThan(20);
    await shots("06-activations");
    // 401 (wrong key) and 400 (validation) responses are logged by the browser on purpose.
    expect(consoleErrors.filter((e) => !/Failed to load resource|favicon/.test(e))).toEqual([]);
  });
});
