import { spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { loadavg } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../packages/db/src/index.js";
import { type Proc, sleep, waitFor } from "../reliability/support/stack.js";
import { apiClient, followEvents, percentile } from "./support/clients.js";
import { createNetwork, type Host, type Network } from "./support/hosts.js";
import { RESULTS_DIR, record } from "./support/results.js";
import {
  type AppSettings,
  clusterNodes,
  PORTS,
  Registry,
  redisCli,
  startApi,
  startHaproxy,
  startPostgres,
  startRedis,
  startRedisCluster,
  startRelay,
  startWorker,
} from "./support/services.js";

/*
 * actlab across hosts (issue 17): a database host with its own Postgres, a Redis host, two API
 * hosts behind HAProxy on a load-balancer host, three worker hosts and six Redis Cluster hosts,
 * each a network namespace on one bridge (support/hosts.ts). Clients (this test) reach the API
 * only through the load balancer. Every wait is bounded; afterAll tears everything down.
 */

const WORKERS = ["w1", "w2", "w3"] as const;
const CLUSTER = ["rc1", "rc2", "rc3", "rc4", "rc5", "rc6"] as const;
const TERMINAL = ["succeeded", "failed", "canceled", "partial"];

/** A tiny run: 2 hidden layers of 16 on 400 digits; `epochs` sets how long it lasts (~0.1–0.3 s an epoch here). */
/** The Redis Cluster failover's runs: long enough to be training when the master dies. */
const FAILOVER_EPOCHS = 200;

function spec(
  name: string,
  { epochs = 4, variants = ["relu"] }: { epochs?: number; variants?: string[] } = {},
) {
  return {
    name,
    dataset: { name: "mnist", samples: 400, testFraction: 0.25, seed: 1 },
    model: { hiddenLayers: 2, units: 16 },
    variants: variants.map((activation) => ({ activation })),
    training: { epochs, batchSize: 20, seed: 1, repeats: 1, optimizer: { name: "sgd", learningRate: 0.1 } },
    device: "cpu",
  };
}

let net: Network;
let reg: Registry;
let db: Db;
let settings: AppSettings;
let lbUrl: string;
const apis = new Map<string, Proc>();
const workers = new Map<string, Proc>();
const relays: Proc[] = [];
const h = (name: string): Host => net.hosts[name]!;

async function startApps(s: AppSettings) {
  await Promise.all(["api1", "api2"].map(async (name) => apis.set(name, await startApi(reg, h(name), s))));
  await Promise.all(
    WORKERS.map(async (name) =>
      workers.set(name, await startWorker(reg, h(name), s, `${name}-${randomBytes(2).toString("hex")}`)),
    ),
  );
  await waitFor(
    async () => (await fetch(`${lbUrl}/readyz`, { signal: AbortSignal.timeout(3_000) })).status === 200,
    {
      timeoutMs: 30_000,
      what: "the load balancer to reach an API",
    },
  );
}

async function stopApps() {
  const all = [...apis.values(), ...workers.values()];
  for (const p of all) p.kill("SIGTERM");
  await Promise.all(all.map((p) => Promise.race([p.exited, sleep(12_000).then(() => p.kill("SIGKILL"))])));
  apis.clear();
  workers.clear();
}

async function finished(id: string, timeoutMs = 90_000) {
  return waitFor(
    async () => {
      const e = await db.experiment.findUniqueOrThrow({ where: { id } });
      return TERMINAL.includes(e.status) ? e : null;
    },
    { timeoutMs, intervalMs: 300, what: `experiment ${id} to finish` },
  );
}

/** Every epoch of the run stored once, 1..epochs, no gap; one model; `run.finished` announced once. */
async function expectStoredOnce(runId: string, epochs: number) {
  const rows = await db.epochMetric.findMany({
    where: { runId },
    select: { epoch: true },
    orderBy: { epoch: "asc" },
  });
  expect(rows.map((r) => r.epoch)).toEqual(Array.from({ length: epochs }, (_, i) => i + 1));
  expect(await db.modelArtifact.count({ where: { runId } })).toBe(1);
  const run = await db.run.findUniqueOrThrow({ where: { id: runId } });
  const events = await db.experimentEvent.findMany({ where: { experimentId: run.experimentId } });
  const mine = events.filter((e) => (e.data as { runId?: string }).runId === runId);
  expect(mine.filter((e) => e.type === "run.finished")).toHaveLength(1);
  return {
    run,
    started: mine.filter((e) => e.type === "run.started").map((e) => e.data as { attempt: number }),
  };
}

/** The worker host holding a running run (from runs.workerId), once it has stored `minEpochs`. */
async function holderOf(runId: string, minEpochs: number) {
  return waitFor(
    async () => {
      const run = await db.run.findUniqueOrThrow({ where: { id: runId } });
      if (run.status !== "running" || run.epochsCompleted < minEpochs || !run.workerId) return null;
      return { host: run.workerId.split("-")[0]!, attempt: run.attempts };
    },
    { timeoutMs: 60_000, intervalMs: 100, what: `run ${runId} to be training` },
  );
}

/**
 * Submits `count` experiments through the load balancer while `readers` clients GET experiments
 * back to back: API p99 over those GETs, and training throughput as epochs stored per second of
 * wall time from the first submit to the last experiment finished.
 */
async function measure(label: string, { count = 3, epochs = 5, readers = 3 } = {}) {
  const client = apiClient(lbUrl, settings.apiKey);
  const t0 = Date.now();
  const ids = await Promise.all(
    Array.from(
      { length: count },
      async (_, i) =>
        (await client.submit(spec(`${label}-${i}`, { epochs }), randomUUID())).reply.body.id as string,
    ),
  );
  let done = false;
  const latencies: number[] = [];
  const errors: number[] = [];
  const readLoops = Array.from({ length: readers }, async (_, r) => {
    for (let i = 0; !done && i < 2_000; i++) {
      try {
        const res = await client.request("GET", `/v1/experiments/${ids[(i + r) % ids.length]}`);
        if (res.status === 200) latencies.push(res.ms);
        else errors.push(res.status);
      } catch {
        errors.push(0);
      }
    }
  });
  const rows = await Promise.all(ids.map((id) => finished(id, 150_000)));
  done = true;
  await Promise.all(readLoops);
  const seconds = (Date.now() - t0) / 1000;
  expect(rows.map((r) => r.status)).toEqual(ids.map(() => "succeeded"));
  const stored = await db.epochMetric.count({ where: { run: { experimentId: { in: ids } } } });
  expect(stored).toBe(count * epochs);
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    gets: latencies.length,
    errors,
    epochsPerSecond: stored / seconds,
    seconds,
  };
}

beforeAll(async () => {
  net = createNetwork(["db", "redis", "lb", "api1", "api2", ...WORKERS, ...CLUSTER]);
  reg = new Registry(`${RESULTS_DIR}/logs-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  const pg = await startPostgres(reg, h("db"));
  startRedis(reg, h("redis"));
  await waitFor(async () => redisCli(["-h", h("redis").ip, "ping"]).includes("PONG"), {
    timeoutMs: 15_000,
    what: "redis",
  });
  relays.push(
    await startRelay(reg, h("db"), PORTS.pgRelay, PORTS.pg),
    await startRelay(reg, h("redis"), PORTS.redisRelay, PORTS.redis),
    await startRelay(reg, h("api1"), PORTS.apiRelay, PORTS.api),
    await startRelay(reg, h("api2"), PORTS.apiRelay, PORTS.api),
  );
  await startHaproxy(reg, h("lb"), [h("api1"), h("api2")]);
  lbUrl = `http://${h("lb").ip}:${PORTS.lb}`;
  db = createDb({ url: `${pg.adminUrl}/actlab`, poolSize: 4 });
  settings = {
    // Apps reach the servers of other hosts through their relays (0 ms until the slow scenario).
    databaseUrl: `postgresql://postgres@${h("db").ip}:${PORTS.pgRelay}/actlab`,
    redisUrl: `redis://${h("redis").ip}:${PORTS.redisRelay}`,
    prefix: "actlab",
    apiKey: `dist_${randomBytes(20).toString("hex")}`,
  };
  await startApps(settings);
});

afterAll(async () => {
  await db?.close().catch(() => {});
  await reg?.stopAll();
  net?.teardown();
});

describe("actlab on many hosts", () => {
  let reference: { sha256: string; testAccuracy: number | null };

  it("clean network: experiments submitted through HAProxy are trained on three worker hosts", async () => {
    const client = apiClient(lbUrl, settings.apiKey);
    const exp = (await client.submit(spec("reference", { epochs: 40 }), randomUUID())).reply.body;
    const others = await Promise.all(
      [0, 1, 2].map(
        async (i) =>
          (await client.submit(spec(`clean-${i}`, { epochs: 3 }), randomUUID())).reply.body.id as string,
      ),
    );
    const rows = await Promise.all([exp.id, ...others].map((id: string) => finished(id)));
    expect(rows.map((r) => r.status)).toEqual(rows.map(() => "succeeded"));
    const run = await db.run.findFirstOrThrow({
      where: { experimentId: exp.id },
      include: { artifact: true },
    });
    await expectStoredOnce(run.id, 40);
    reference = { sha256: run.artifact!.sha256, testAccuracy: run.testAccuracy };
    const hosts = await db.run.groupBy({ by: ["workerId"], where: { status: "succeeded" } });
    record({
      scenario: "clean network",
      injected: "nothing",
      held: `4 experiments through HAProxy succeeded, trained by ${hosts.length} worker hosts, every epoch once`,
      numbers: `reference run (40 epochs) accuracy ${run.testAccuracy?.toFixed(3)}`,
    });
    expect(hosts.length).toBeGreaterThan(1);
  });

  it("a worker partitioned from Redis longer than its lock: another takes over, the late writes are refused, every epoch once", async () => {
    const client = apiClient(lbUrl, settings.apiKey);
    const exp = (await client.submit(spec("reference", { epochs: 40 }), randomUUID())).reply.body;
    const runId = exp.runs[0].id as string;
    const first = await holderOf(runId, 1);
    const host = h(first.host);
    const from = workers.get(first.host)!.logs.length;
    const t0 = Date.now();
    net.partition(host, h("redis"));
    let takeover: { host: string; attempt: number };
    try {
      // lock 3 s + stalled checks every 1 s: another worker starts attempt n + 1.
      takeover = await waitFor(
        async () => {
          const run = await db.run.findUniqueOrThrow({ where: { id: runId } });
          // (It may have finished already, resumed from the checkpoint, when the cut came late in the run.)
          return run.attempts > first.attempt
            ? { host: (run.workerId ?? "").split("-")[0]!, attempt: run.attempts }
            : null;
        },
        { timeoutMs: 30_000, intervalMs: 100, what: "another worker to take the run over" },
      );
      // The cut-off worker still trains and tries to write; the store refuses its attempt, and it stops.
      await workers
        .get(first.host)!
        .waitForLog((l) => l.msg === "stop requested" || /no longer held/.test(l.msg), 20_000, from);
    } finally {
      net.heal(host, h("redis"));
    }
    const takeoverSeconds = (Date.now() - t0) / 1000;
    await finished(exp.id);
    const { run, started } = await expectStoredOnce(runId, 40);
    expect(takeover.host).not.toBe(first.host);
    expect(run.status).toBe("succeeded");
    expect(started.map((s) => s.attempt)).toContain(takeover.attempt);
    // Resumed elsewhere from a checkpoint, the model is the one an undisturbed run makes.
    const artifact = await db.modelArtifact.findUniqueOrThrow({ where: { runId } });
    expect({ sha256: artifact.sha256, testAccuracy: run.testAccuracy }).toEqual(reference);
    record({
      scenario: "worker partitioned from Redis",
      injected: `iptables DROP between ${first.host} and the Redis host, ${takeoverSeconds.toFixed(1)} s (lock 3 s)`,
      held: `run taken over by ${takeover.host} as attempt ${takeover.attempt}; ${first.host}'s writes refused, it stopped; epochs 1–40 once; model identical to an undisturbed run`,
      numbers: `takeover after ${takeoverSeconds.toFixed(1)} s; run attempts ${run.attempts}`,
    });
  });

  it("a worker partitioned from Postgres only: it stops and the run continues elsewhere, no epoch lost or doubled", async () => {
    const client = apiClient(lbUrl, settings.apiKey);
    const exp = (await client.submit(spec("reference", { epochs: 40 }), randomUUID())).reply.body;
    const runId = exp.runs[0].id as string;
    const first = await holderOf(runId, 3);
    const host = h(first.host);
    const from = workers.get(first.host)!.logs.length;
    const t0 = Date.now();
    net.partition(host, h("db"));
    let moved: { host: string; attempt: number };
    try {
      moved = await waitFor(
        async () => {
          const run = await db.run.findUniqueOrThrow({ where: { id: runId } });
          return run.attempts > first.attempt
            ? { host: (run.workerId ?? "").split("-")[0]!, attempt: run.attempts }
            : null;
        },
        { timeoutMs: 60_000, intervalMs: 200, what: "the run to move off the worker cut from Postgres" },
      );
    } finally {
      net.heal(host, h("db"));
    }
    const movedSeconds = (Date.now() - t0) / 1000;
    await finished(exp.id);
    const { run } = await expectStoredOnce(runId, 40);
    expect(run.status).toBe("succeeded");
    const artifact = await db.modelArtifact.findUniqueOrThrow({ where: { runId } });
    expect({ sha256: artifact.sha256, testAccuracy: run.testAccuracy }).toEqual(reference);
    // What the cut-off worker did with the run: its attempt failed (timeouts) and BullMQ took the job back.
    const gaveUp = workers
      .get(first.host)!
      .logs.slice(from)
      .find((l) => l.runId === runId && l.msg === "run attempt failed; BullMQ will retry");
    expect(gaveUp).toBeDefined();
    record({
      scenario: "worker partitioned from Postgres",
      injected: `iptables DROP between ${first.host} and the database host until the run moved (${movedSeconds.toFixed(1)} s)`,
      held: `${first.host} gave its attempt up ("${String((gaveUp!.err as { message?: string } | undefined)?.message ?? gaveUp!.err)}" after DB_TIMEOUT_MS 2 s and retries), BullMQ gave the job to ${moved.host || "another worker"} (attempt ${moved.attempt}), which finished it; epochs 1–40 once; same model`,
      numbers: `run moved after ${movedSeconds.toFixed(1)} s; run attempts ${run.attempts}`,
    });
  });

  it("an API replica killed under load: only in-flight requests fail, retries with the same Idempotency-Key get the same experiment, SSE resumes", async () => {
    const client = apiClient(lbUrl, settings.apiKey);
    // Two streams opened back to back land on the two replicas (round robin).
    const watched = await Promise.all(
      [0, 1].map(
        async (i) =>
          // Long enough to be still streaming when the replica dies on a quiet machine too (30
          // epochs finished first there); canceled below once the kill is over.
          (await client.submit(spec(`sse-${i}`, { epochs: 1000 }), randomUUID())).reply.body.id as string,
      ),
    );
    const streams = watched.map((id) => followEvents(lbUrl, settings.apiKey, id));
    await sleep(1_000);
    const keys = Array.from({ length: 24 }, () => randomUUID());
    const results: Array<{ key: string; id: string; failures: string[] }> = [];
    let inFlight = 0;
    let inFlightAtKill = -1;
    const killer = (async () => {
      await waitFor(async () => results.length >= 6, {
        timeoutMs: 60_000,
        intervalMs: 20,
        what: "load to start",
      });
      inFlightAtKill = inFlight;
      apis.get("api1")!.kill("SIGKILL");
    })();
    const queue = [...keys];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let key = queue.shift(); key; key = queue.shift()) {
          inFlight++;
          const { reply, failures } = await client
            .submit(spec("load", { epochs: 1 }), key)
            .finally(() => inFlight--);
          results.push({ key, id: reply.body.id, failures });
        }
      }),
    );
    await killer;
    await apis.get("api1")!.exited;
    // Retrying a key that already made its experiment returns that experiment.
    const again = await Promise.all(
      results.slice(0, 8).map((r) => client.submit(spec("load", { epochs: 1 }), r.key)),
    );
    expect(again.map((a) => a.reply.body.id)).toEqual(results.slice(0, 8).map((r) => r.id));
    const failedFirst = results.filter((r) => r.failures.length > 0).length;
    expect(failedFirst).toBeLessThanOrEqual(Math.max(inFlightAtKill, 0) + 1);
    // One experiment per key, nothing made twice.
    expect(new Set(results.map((r) => r.id)).size).toBe(keys.length);
    expect(await db.experiment.count({ where: { name: "load" } })).toBe(keys.length);
    await Promise.all(results.map((r) => finished(r.id)));
    for (const id of watched) {
      const res = await fetch(`${lbUrl}/v1/experiments/${id}/cancel`, {
        method: "POST",
        headers: { authorization: `Bearer ${settings.apiKey}` },
      });
      expect([200, 202, 409]).toContain(res.status);
    }
    await Promise.all(streams.map((s) => s.done));
    for (const [i, s] of streams.entries()) {
      const stored = await db.experimentEvent.findMany({
        where: { experimentId: watched[i]! },
        orderBy: { id: "asc" },
      });
      expect(s.ids).toEqual(stored.map((e) => String(e.id)));
    }
    const reconnects = streams.map((s) => s.reconnects);
    expect(Math.max(...reconnects)).toBeGreaterThan(0);
    record({
      scenario: "API replica killed under load",
      injected: "kill -9 of one of two API replicas during 24 POSTs (4 at a time) and 2 SSE streams",
      held: `${failedFirst} POSTs failed once (≤ ${inFlightAtKill} in flight) and succeeded on retry with the same Idempotency-Key; 24 keys → 24 experiments; SSE streams reconnected (${reconnects.join(", ")} times) with Last-Event-ID and got every stored event`,
      numbers: `${results.reduce((n, r) => n + r.failures.length, 0)} failed attempts, 0 lost or doubled experiments`,
    });
    // Back to two replicas for what follows.
    apis.set("api1", await startApi(reg, h("api1"), settings));
  });

  it("slow, lossy network (100 ms each way, 1% loss at every host): experiments complete; API p99 and throughput against the clean network", async () => {
    // Clean first, then slow, back to back: this machine's load changes by the minute.
    const clean = await measure("clean");
    const cleanLoad = loadavg()[0]!;
    for (const r of relays) r.child.kill("SIGUSR1");
    net.setLoss(0.01);
    let slow: Awaited<ReturnType<typeof measure>>;
    try {
      slow = await measure("slow");
    } finally {
      for (const r of relays) r.child.kill("SIGUSR2");
      net.setLoss(0);
    }
    record({
      scenario: "slow, lossy network",
      injected:
        "+100 ms each way on every connection to Postgres, Redis and the APIs (delay relays); 1% of packets dropped at every host (iptables statistic)",
      held: "every experiment succeeded, every epoch stored once",
      numbers: `GET p99 ${slow.p99.toFixed(0)} ms vs ${clean.p99.toFixed(0)} ms clean (p50 ${slow.p50.toFixed(0)} vs ${clean.p50.toFixed(0)}; ${slow.gets} and ${clean.gets} GETs); training ${slow.epochsPerSecond.toFixed(2)} vs ${clean.epochsPerSecond.toFixed(2)} epochs/s; load average ${loadavg()[0]!.toFixed(1)} and ${cleanLoad.toFixed(1)}`,
    });
    expect(slow.errors).toEqual([]);
    expect(clean.errors).toEqual([]);
  });

  it("Redis Cluster (3 masters + 3 replicas): the queue tests and an experiment pass on it; a master killed mid-run fails over and the experiments complete", async () => {
    await stopApps();
    const cluster = await startRedisCluster(reg, CLUSTER.map(h));
    const clusterUrl = `redis+cluster://${CLUSTER.slice(0, 3)
      .map((n) => `${h(n).ip}:${PORTS.redis}`)
      .join(",")}`;
    // The queue package's own tests, against the cluster (hash-tagged prefixes, see tests/support).
    const queueTests = spawnSync("npx", ["vitest", "run", "packages/queue"], {
      encoding: "utf8",
      env: { ...process.env, REDIS_URL: clusterUrl, NO_COLOR: "1", FORCE_COLOR: "0" },
      timeout: 120_000,
    });
    expect(queueTests.status, queueTests.stdout.slice(-3000)).toBe(0);
    const queueSummary = /Tests\s+(\d+ passed[^\n]*)/.exec(queueTests.stdout)?.[1] ?? "?";

    const s = { ...settings, redisUrl: clusterUrl, prefix: "{actlab}" };
    await startApps(s);
    const client = apiClient(lbUrl, settings.apiKey);
    const e2e = (
      await client.submit(spec("cluster-e2e", { epochs: 4, variants: ["relu", "tanh"] }), randomUUID())
    ).reply.body;
    expect((await finished(e2e.id)).status).toBe("succeeded");

    const ids = await Promise.all(
      Array.from(
        { length: 4 },
        async (_, i) =>
          // 200 epochs (a second or two each): 25 finished in a few hundred ms at native speed, and the
          // 200 ms poll below could miss two runs training at once (CI timed out waiting).
          (await client.submit(spec(`failover-${i}`, { epochs: FAILOVER_EPOCHS }), randomUUID())).reply.body
            .id as string,
      ),
    );
    await waitFor(
      async () => (await db.run.count({ where: { experimentId: { in: ids }, status: "running" } })) >= 2,
      {
        timeoutMs: 60_000,
        intervalMs: 200,
        what: "runs to be training on the cluster",
      },
    );
    // The master that owns {actlab}'s slot holds every BullMQ key: kill it.
    const slot = Number(
      redisCli(["-h", h("rc1").ip, "-p", String(PORTS.redis), "cluster", "keyslot", "{actlab}"]).trim(),
    );
    const owns = (n: ReturnType<typeof clusterNodes>[number]) =>
      n.slots.some((r) => {
        const [a, b] = r.split("-").map(Number);
        return slot >= a! && slot <= (b ?? a!);
      });
    const master = clusterNodes(h("rc1")).find((n) => n.role === "master" && owns(n))!;
    const t0 = Date.now();
    cluster.procs.get(master.ip)!.kill("SIGKILL");
    const survivor = CLUSTER.map(h).find((x) => x.ip !== master.ip)!;
    const promoted = await waitFor(
      async () =>
        clusterNodes(survivor).find(
          (n) => n.role === "master" && !n.failed && owns(n) && n.ip !== master.ip,
        ) ?? null,
      { timeoutMs: 30_000, intervalMs: 250, what: "a replica to be promoted" },
    );
    const failoverSeconds = (Date.now() - t0) / 1000;
    const rows = await Promise.all(ids.map((id) => finished(id, 150_000)));
    expect(rows.map((r) => r.status)).toEqual(ids.map(() => "succeeded"));
    for (const id of ids) {
      const run = await db.run.findFirstOrThrow({ where: { experimentId: id } });
      await expectStoredOnce(run.id, FAILOVER_EPOCHS);
    }
    record({
      scenario: "Redis Cluster with a master killed",
      injected: `kill -9 of the master holding {actlab}'s slot (${master.ip}) while 4 runs trained`,
      held: `packages/queue tests on the cluster (${queueSummary}); an end-to-end experiment; replica ${promoted.ip} promoted, all 4 experiments succeeded, every epoch once`,
      numbers: `failover seen after ${failoverSeconds.toFixed(1)} s (cluster-node-timeout 1.5 s)`,
    });
  }, 300_000); // restarts every app on the cluster: minutes on a loaded 2-core machine
});
