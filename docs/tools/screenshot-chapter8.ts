/**
 * Screenshots of the dashboard's charts for one experiment, for docs/chapter8.md:
 *   npx tsx docs/tools/screenshot-chapter8.ts <experiment id> [--base http://127.0.0.1:3000] [--out docs/images]
 * Signs in by putting the API key (env ACTLAB_API_KEY) where the dashboard keeps it
 * (localStorage "actlab.apiKey"), opens /experiments/<id> in Debian's chromium (playwright-core)
 * and saves the "Summary", "Sweep" (an experiment with a sweep), "Learning curves", "Gradient flow"
 * and "Dead and saturated units" cards, those the page has.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { launchBrowser } from "../../tests/e2e/browser.js";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    base: { type: "string", default: "http://127.0.0.1:3000" },
    out: { type: "string", default: "docs/images" },
    prefix: { type: "string", default: "chapter8" },
  },
});
const id = positionals[0];
const key = process.env.ACTLAB_API_KEY;
if (!id || !key) {
  console.error("usage: ACTLAB_API_KEY=… npx tsx docs/tools/screenshot-chapter8.ts <experiment id>");
  process.exit(1);
}
const out = values.out!;
mkdirSync(out, { recursive: true });

// Tall, so each chart card fits the viewport whole.
const { context, close } = await launchBrowser({ viewport: { width: 1280, height: 1600 } });
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(values.base!);
  await page.evaluate((k) => window.localStorage.setItem("actlab.apiKey", k), key);
  await page.goto(`${values.base}/experiments/${id}`);
  const card = (title: string) =>
    page.locator("section.card", { has: page.locator("h2", { hasText: title }) });
  await card("Learning curves").locator("canvas").first().waitFor({ timeout: 30_000 });
  await card("Gradient flow").locator("canvas").first().waitFor({ timeout: 30_000 });
  // The app's top bar is sticky: keep it from covering the cards being captured.
  await page.addStyleTag({ content: "header { position: static !important; }" });
  await page.waitForTimeout(1_500); // let uPlot finish drawing
  const shots: [string, string][] = [
    ["Summary", "summary"],
    ["Sweep", "sweep"],
    ["Learning curves", "accuracy"],
    ["Gradient flow", "gradient-flow"],
    ["Dead and saturated units", "dead-units"],
  ];
  for (const [title, name] of shots) {
    const c = card(title);
    if (!(await c.count())) continue;
    await c.first().scrollIntoViewIfNeeded();
    await c.first().screenshot({ path: join(out, `${values.prefix}-${name}.png`) });
    console.log(`${out}/${values.prefix}-${name}.png`);
  }
} finally {
  await close();
}
