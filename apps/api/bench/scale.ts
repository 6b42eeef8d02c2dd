/**
 * The scale rows of `npm run bench:api` (issue 14): a sweep of 2,000 runs × 50 epochs seeded
 * straight into a throwaway database (100 cells = 10 depths × 10 learning rates, × 5 variants ×
 * 4 repeats), then, against the real API in this process:
 *   GET /v1/experiments/:id               target ≤ 200 ms (runs, summary per cell × variant, comparisons)
 *     twice: as read again unchanged, and after a run changed (its cell's statistics computed afresh)
 *   GET …/metrics?cell=…                  target ≤ 300 ms (one cell: 20 runs × 50 epochs, every field)
 *   GET …/metrics?fields=testAccuracy     all 2,000 runs, streamed: first byte long before the last
 *   the dashboard's first render          target ≤ 2 s in Chromium (heatmap and summary drawn)
 * Requests are sequential (latency, not throughput): the median of ROUNDS, with the max beside it.
 */
import { randomBytes } from "node:crypto";
import { cpus, loadavg } from "node:os";
import { ZExperimentSpec } from "@actlab/contracts";
import {
  applyMigrations,
  createDb,
  dropDatabase,
  ensureDatabase,
  insertExperiment,
  planExperiment,
} from "@actlab/db";
import { createRedis } from "@actlab/queue";
import pg from "pg";
import { launchBrowser } from "../../../tests/e2e/browser.js";
import { buildDashboard } from "../../../tests/e2e/stack.js";
import { deletePrefix } from "../../../tests/support/redis.js";

const PG_SERVER = process.env.BENCH_DATABASE_SERVER ?? "postgresql://postgres@127.0.0.1:5432";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const ROUNDS = 7;
const EPOCHS = 50;

const SPEC = ZExperimentSpec.parse({
  name: "bench: 2,000-run sweep",
  variants: [
    { activation: "sigmoid" },
    { activation: "tanh" },
    { activation: "relu" },
    { activation: "leaky_relu" },
    { activation: "elu" },
  ],
  training: { epochs: EPOCHS, repeats: 4 },
  sweep: {
    "model.hiddenLayers": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    "training.optimizer.learningRate": [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
  },
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(url: string, key: string): Promise<{ ms: number; firstByteMs: number; bytes: number }> {
  const t0 = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  const reader = res.body!.getReader();
  let firstByteMs = -1;
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (firstByteMs < 0) firstByteMs = performance.now() - t0;
    bytes += value.byteLength;
  }
  return { ms: performance.now() - t0, firstByteMs, bytes };
}

/**
 * Seeds the sweep: the experiment and its runs through packages/db's own creation (so the rows are
 * what the API makes), then every run finished and 50 epochs each with one bulk statement. Plain
 * SQL on purpose, as the baseline server's: a bench fixture, not app code.
 */
export async function seedSweep(
  databaseUrl: string,
): Promise<{ id: string; key: string; tenantId: string; cell: Record<string, unknown> }> {
  const db = createDb({ url: databaseUrl, poolSize: 2 });
  const { createApiKey } = await import("../src/services/api-keys.js");
  const { key, tenantId } = await createApiKey(db, { tenant: "bench-scale" });
  const plan = planExperiment({ tenantId, spec: SPEC });
  const outcome = await insertExperiment(db, plan, { maxActiveRuns: 1_000_000 });
  if (outcome.kind !== "inserted") throw new Error(`seeding failed: ${outcome.kind}`);
  await db.close();
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  await pool.query(
    `UPDATE runs SET status = 'succeeded', "epochsCompleted" = $2, attempts = 1, backend = 'wasm',
       "testAccuracy" = 0.1 + 0.85 * random(), "testLoss" = 2 * random(), seconds = 50 * random(),
       "startedAt" = now(), "finishedAt" = now()
     WHERE "experimentId" = $1`,
    [plan.id, EPOCHS],
  );
  await pool.query(
    `INSERT INTO epoch_metrics ("runId", epoch, "trainLoss", "trainAccuracy", "testLoss", "testAccuracy",
       "gradNorms", "deadFraction", "saturatedFraction", "preluAlphaMean", seconds)
     SELECT r.id, e, random(), random(), random(), random(),
       (SELECT array_agg(random()) FROM generate_series(0, (r.cell->>'model.hiddenLayers')::int) g(l) WHERE e > 0),
       (SELECT array_agg(random() / 10) FROM generate_series(1, (r.cell->>'model.hiddenLayers')::int) g(l) WHERE e > 0),
       (SELECT array_agg(random() / 10) FROM generate_series(1, (r.cell->>'model.hiddenLayers')::int) g(l) WHERE e > 0),
       '{}', 1 + random()
     FROM runs r CROSS JOIN generate_series(1, $2) e WHERE r."experimentId" = $1`,
    [plan.id, EPOCHS],
  );
  await pool.query("ANALYZE");
  await pool.end();
  return { id: plan.id, key, tenantId, cell: plan.runs[plan.runs.length - 1]!.cell };
}

/** Runs the scale scenarios and returns their Markdown section. */
export async function runScaleBench(): Promise<string> {
  const suffix = randomBytes(4).toString("hex");
  const databaseUrl = `${PG_SERVER}/actlab_bench_scale_${suffix}`;
  const prefix = `actlab-bench-scale-${suffix}`;
  await ensureDatabase(databaseUrl);
  await applyMigrations({ url: databaseUrl });
  process.stderr.write("scale: seeding 2,000 runs × 50 epochs…\n");
  const t0 = performance.now();
  const { id, key, cell } = await seedSweep(databaseUrl);
  const seedSeconds = (performance.now() - t0) / 1000;
  process.stderr.write("scale: building the dashboard…\n");
  await buildDashboard();

  const { buildApp } = await import("../src/app.js");
  const { parseEnv } = await import("../src/env.js");
  const app = await buildApp({
    env: parseEnv({
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: "silent",
      RATE_LIMIT_MAX: "100000000",
    }),
  });
  const address = await app.listen({ port: 0, host: "127.0.0.1" });
  const lines: string[] = [];
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const base = `${address}/v1/experiments/${id}`;
    // Changes one run's final accuracy, as a run finishing would: the API must compute the statistics again.
    const touchRun = async () => {
      await pool.query(
        `UPDATE runs SET "testAccuracy" = 0.1 + 0.85 * random(), "updatedAt" = clock_timestamp()
         WHERE id = (SELECT id FROM runs WHERE "experimentId" = $1 LIMIT 1)`,
        [id],
      );
    };
    const scenarios: [string, string, number | null, (() => Promise<void>)?][] = [
      [
        "GET /v1/experiments/:id (2,000 runs, 500 summaries, 1,000 comparisons), unchanged since the last read",
        base,
        200,
      ],
      [
        "GET /v1/experiments/:id, a run changed since the last read (its cell's statistics computed afresh)",
        base,
        200,
        touchRun,
      ],
      [
        "GET …/metrics?cell=… (one cell: 20 runs × 50 epochs, every field)",
        `${base}/metrics?cell=${encodeURIComponent(JSON.stringify(cell))}`,
        300,
      ],
      [
        "GET …/metrics?fields=testAccuracy (2,000 runs × 50 epochs, streamed)",
        `${base}/metrics?fields=testAccuracy`,
        null,
      ],
    ];
    const rows: string[] = [];
    for (const [name, url, target, before] of scenarios) {
      process.stderr.write(`scale: ${name}…\n`);
      await timed(url, key); // warm-up
      const got: Awaited<ReturnType<typeof timed>>[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        await before?.();
        got.push(await timed(url, key));
      }
      const ms = median(got.map((g) => g.ms));
      const verdict =
        target === null ? "—" : ms <= target ? `≤ ${target} ms: met` : `≤ ${target} ms: **not met**`;
      rows.push(
        `| ${name} | ${ms.toFixed(0)} | ${Math.max(...got.map((g) => g.ms)).toFixed(0)} | ` +
          `${median(got.map((g) => g.firstByteMs)).toFixed(0)} | ${(got[0]!.bytes / 1e6).toFixed(2)} MB | ${verdict} |`,
      );
    }

    process.stderr.write("scale: dashboard first render in Chromium…\n");
    const browser = await launchBrowser();
    const renders: number[] = [];
    try {
      const page = await browser.context.newPage();
      await page.addInitScript(`localStorage.setItem("actlab.apiKey", ${JSON.stringify(key)})`);
      for (let i = 0; i < 1 + Math.min(ROUNDS, 5); i++) {
        await page.goto(`${address}/experiments/${id}`);
        await page
          .locator('[data-testid="sweep-heatmap"] td[data-value]')
          .first()
          .waitFor({ timeout: 30_000 });
        await page.locator('[data-testid="summary-table"]').waitFor({ timeout: 30_000 });
        // Milliseconds since this navigation started (the first load also fetches the bundle).
        if (i > 0) renders.push(Number(await page.evaluate("performance.now()")));
      }
    } finally {
      await browser.close();
    }
    const render = median(renders);
    rows.push(
      `| dashboard first render in Chromium (navigation → heatmap and summary drawn) | ${render.toFixed(0)} | ` +
        `${Math.max(...renders).toFixed(0)} | — | — | ${render <= 2000 ? "≤ 2000 ms: met" : "≤ 2000 ms: **not met**"} |`,
    );

    lines.push(
      "## Scale: a 2,000-run sweep (issue 14)",
      "",
      `${new Date().toISOString()} · ${cpus().length} cores · load average at the end ${loadavg()[0]!.toFixed(1)} · ` +
        `100 cells (10 depths × 10 learning rates) × 5 variants × 4 repeats × ${EPOCHS} epochs seeded in ${seedSeconds.toFixed(0)} s · ` +
        `sequential requests to the API in this process, median of ${ROUNDS} after a warm-up`,
      "",
      "| request | median ms | max ms | first byte ms (median) | body | target |",
      "| --- | ---: | ---: | ---: | ---: | --- |",
      ...rows,
      "",
    );
  } finally {
    await pool.end();
    await app.close();
    const redis = createRedis(REDIS_URL, { role: "worker" });
    await deletePrefix(redis, prefix).catch(() => undefined);
    redis.disconnect();
    await dropDatabase(databaseUrl);
  }
  return lines.join("\n");
}
