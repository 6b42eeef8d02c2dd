import { ZProblem } from "@actlab/contracts";
import { afterAll, describe, expect, it } from "vitest";
import { scenario } from "../support/results.js";
import { ensureServicesUp, startPostgres, startRedis, stopPostgres, stopRedis } from "../support/services.js";
import { type HttpResult, type Stack, sleep, startStack, waitFor } from "../support/stack.js";

// Dependencies: the machine's Redis, then its Postgres, stopped for a few seconds in the middle
// of training and started again. While each is down, /readyz must say 503 naming it and every
// API request must answer quickly with its normal answer or a 503 problem+json (never hang,
// never 500, never crash); afterwards everything must complete with no manual action.
// These restart services other tests share: they run only in `npm run test:reliability`.

const OUTAGE_MS = 6_000;
const ANSWER_WITHIN_MS = 5_000;
const spec = (name: string, epochs = 6) => ({
  name,
  dataset: { name: "mnist", samples: 300, testFraction: 0.2, seed: 2 },
  model: { hiddenLayers: 2, units: 16 },
  variants: [{ activation: "relu" }, { activation: "tanh" }],
  training: { epochs, batchSize: 5, seed: 5, repeats: 2, optimizer: { name: "sgd", learningRate: 0.05 } },
  device: "cpu",
});

let stack: Stack | undefined;
afterAll(async () => {
  await ensureServicesUp();
  await stack?.stop();
});

interface Probe {
  what: string;
  status: number;
  ms: number;
  problem: boolean;
}

/** One round of requests against every kind of route while a dependency is down. */
async function probeRound(s: Stack, experimentId: string, runId: string, n: number): Promise<Probe[]> {
  const calls: Array<[string, () => Promise<HttpResult>]> = [
    ["GET /readyz", () => s.http("GET", "/readyz", { key: null })],
    ["GET /healthz", () => s.http("GET", "/healthz", { key: null })],
    ["GET /metrics", () => s.http("GET", "/metrics", { key: null })],
    ["GET /v1/experiments", () => s.http("GET", "/v1/experiments")],
    ["GET /v1/experiments/:id", () => s.http("GET", `/v1/experiments/${experimentId}`)],
    ["GET /v1/experiments/:id/metrics", () => s.http("GET", `/v1/experiments/${experimentId}/metrics`)],
    ["GET /v1/runs/:id", () => s.http("GET", `/v1/runs/${runId}`)],
    ["GET /v1/presets", () => s.http("GET", "/v1/presets")],
    ["POST /v1/experiments", () => s.http("POST", "/v1/experiments", { body: spec(`during outage ${n}`) })],
  ];
  return Promise.all(
    calls.map(async ([what, call]) => {
      const started = performance.now();
      try {
        const r = await call();
        // /readyz's 503 is its documented readiness body (status + checks), not a problem document.
        const problem =
          r.status < 400 ||
          (what === "GET /readyz" && r.status === 503 && "checks" in r.json()) ||
          (/^application\/problem\+json/.test(r.headers.get("content-type") ?? "") &&
            ZProblem.safeParse(r.json()).success);
        return { what, status: r.status, ms: r.ms, problem };
      } catch {
        return { what, status: 0, ms: performance.now() - started, problem: false };
      }
    }),
  );
}

async function outage(
  s: Stack,
  dependency: "redis" | "postgres",
  experimentId: string,
  runId: string,
): Promise<{
  probes: Probe[];
  readyz: Array<Record<string, unknown>>;
  downMs: number;
  readyAgainMs: number;
}> {
  const probes: Probe[] = [];
  const readyz: Array<Record<string, unknown>> = [];
  const t0 = Date.now();
  await (dependency === "redis" ? stopRedis() : stopPostgres());
  try {
    let n = 0;
    while (Date.now() - t0 < OUTAGE_MS) {
      probes.push(...(await probeRound(s, experimentId, runId, n++)));
      const r = await s.http("GET", "/readyz", { key: null });
      readyz.push({ ...r.json(), httpStatus: r.status });
      await sleep(300);
    }
  } finally {
    await (dependency === "redis" ? startRedis() : startPostgres());
  }
  const downMs = Date.now() - t0;
  const up = Date.now();
  await waitFor(async () => (await s.http("GET", "/readyz", { key: null })).status === 200, {
    timeoutMs: 60_000,
    what: "/readyz to say ready again",
  });
  return { probes, readyz, downMs, readyAgainMs: Date.now() - up };
}

async function expectAllCompleted(s: Stack, ids: string[]) {
  for (const id of ids) {
    const e = await s.finished(id, { timeoutMs: 240_000 });
    expect([id, e.status]).toEqual([id, "succeeded"]);
    const runs = await s.db.run.findMany({ where: { experimentId: id }, include: { metrics: true } });
    for (const r of runs) {
      expect(r.metrics.map((m) => m.epoch).sort((a, b) => a - b)).toEqual(
        Array.from({ length: r.epochs }, (_, k) => k + 1),
      );
    }
  }
}

function summarize(probes: Probe[]) {
  const byStatus = new Map<number, number>();
  for (const p of probes) byStatus.set(p.status, (byStatus.get(p.status) ?? 0) + 1);
  return {
    maxMs: Math.max(...probes.map((p) => p.ms)),
    statuses: [...byStatus.entries()].map(([k, v]) => `${v}×${k}`).join(" "),
  };
}

describe("dependencies: Redis and Postgres restarted mid-experiment", () => {
  it("Redis restart: /readyz 503 names redis, API answers quickly, everything completes", async () => {
    await scenario("dependencies: Redis restart", async () => {
      stack = await startStack({ label: "deps", workers: 2, fastRecovery: true });
      const s = stack;
      const res = await s.http("POST", "/v1/experiments", { body: spec("redis restart", 12) });
      expect(res.status).toBe(202);
      const id: string = res.json().id;
      await waitFor(async () => (await s.db.epochMetric.count()) >= 2, { what: "training under way" });
      const pids = s.all.filter((p) => p.alive()).map((p) => p.pid);

      const o = await outage(s, "redis", id, res.json().runs[0].id);
      // Every /readyz during the outage: 503, redis named, postgres fine.
      expect(o.readyz.length).toBeGreaterThan(3);
      for (const r of o.readyz) {
        expect(r.httpStatus).toBe(503);
        expect(String(r.detail)).toMatch(/redis/);
        expect((r.checks as Record<string, string>).redis).toMatch(/^down/);
        expect((r.checks as Record<string, string>).postgres).toBe("ok");
      }
      for (const p of o.probes) {
        expect([p.what, p.status === 0 || p.status === 500 || (p.status >= 500 && p.status !== 503)]).toEqual(
          [p.what, false],
        );
        expect([p.what, p.problem]).toEqual([p.what, true]);
        expect([p.what, p.ms < ANSWER_WITHIN_MS]).toEqual([p.what, true]);
      }
      // Experiments accepted during the outage are stored; the reconciler enqueues them.
      const during = await s.db.experiment.findMany({ where: { name: { startsWith: "during outage" } } });
      expect(during.length).toBeGreaterThan(0);
      await expectAllCompleted(s, [id, ...during.map((d) => d.id)]);
      // Nothing crashed: the same processes are still running.
      expect(s.all.filter((p) => p.alive()).map((p) => p.pid)).toEqual(pids);
      const sum = summarize(o.probes);
      return {
        figure:
          `Redis down ${(o.downMs / 1000).toFixed(1)} s: ${o.readyz.length}/${o.readyz.length} /readyz 503 "redis not reachable", ` +
          `${o.probes.length} API calls all answered (${sum.statuses}) in ≤ ${sum.maxMs.toFixed(0)} ms; ` +
          `ready ${(o.readyAgainMs / 1000).toFixed(1)} s after restart; ${1 + during.length} experiments (incl. ${during.length} submitted during the outage) all succeeded, no process restarted`,
      };
    });
  });

  it("Postgres restart: /readyz 503 names postgres, API answers 503 problem+json quickly, everything completes", async () => {
    await scenario("dependencies: Postgres restart", async () => {
      if (!stack) stack = await startStack({ label: "deps", workers: 2, fastRecovery: true });
      const s = stack;
      const res = await s.http("POST", "/v1/experiments", { body: spec("postgres restart", 20) });
      expect(res.status).toBe(202);
      const id: string = res.json().id;
      await waitFor(
        async () => (await s.db.epochMetric.count({ where: { run: { experimentId: id } } })) >= 2,
        { what: "training under way" },
      );
      const pids = s.all.filter((p) => p.alive()).map((p) => p.pid);
      const inFlight = await s.db.run.count({
        where: { experimentId: id, status: { in: ["queued", "running"] } },
      });
      expect(inFlight).toBeGreaterThan(0);

      const o = await outage(s, "postgres", id, res.json().runs[0].id);
      expect(o.readyz.length).toBeGreaterThan(3);
      for (const r of o.readyz) {
        expect(r.httpStatus).toBe(503);
        expect(String(r.detail)).toMatch(/postgres/);
        expect((r.checks as Record<string, string>).postgres).toMatch(/^down/);
      }
      const dbRoutes = [
        "GET /v1/experiments",
        "GET /v1/experiments/:id",
        "GET /v1/runs/:id",
        "POST /v1/experiments",
      ];
      for (const p of o.probes) {
        expect([p.what, p.status === 0 || (p.status >= 500 && p.status !== 503)]).toEqual([p.what, false]);
        expect([p.what, p.problem]).toEqual([p.what, true]);
        expect([p.what, p.ms < ANSWER_WITHIN_MS]).toEqual([p.what, true]);
        if (dbRoutes.includes(p.what)) expect([p.what, p.status]).toEqual([p.what, 503]);
      }
      await expectAllCompleted(s, [id]);
      expect(s.all.filter((p) => p.alive()).map((p) => p.pid)).toEqual(pids);
      const sum = summarize(o.probes);
      const five = o.probes.filter((p) => p.status === 503);
      return {
        figure:
          `Postgres down ${(o.downMs / 1000).toFixed(1)} s: ${o.readyz.length}/${o.readyz.length} /readyz 503 "postgres not reachable", ` +
          `${o.probes.length} API calls (${sum.statuses}) in ≤ ${sum.maxMs.toFixed(0)} ms (503s ≤ ${Math.max(...five.map((p) => p.ms)).toFixed(0)} ms); ` +
          `ready ${(o.readyAgainMs / 1000).toFixed(1)} s after restart; the ${inFlight} runs in flight all succeeded, every epoch once, no process restarted`,
      };
    });
  });
});
