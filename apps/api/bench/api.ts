/**
 * `npm run bench:api` — actlab's API against a bare baseline doing the same I/O, side by side.
 *
 * Each server runs as its own child process on 127.0.0.1 (autocannon stays in this process,
 * so load generation never shares an event loop with the server under test); both use the
 * same throwaway database and a throwaway BullMQ prefix with no worker. Scenarios:
 *   POST /v1/experiments  small spec (2 variants × 1 repeat): actlab = auth + validation +
 *                         idempotency/limit checks + transaction + enqueue; baseline = one pg
 *                         insert per row in a transaction + BullMQ addBulk.
 *   GET /v1/experiments/:id  actlab = auth + experiment with runs + summary; baseline = one pg select.
 * Prints req/s and p50/p99 latency and the actlab/baseline ratio; writes the table to
 * apps/api/BENCH.md. Options: --duration S (default 5), --connections N (default 50), --rounds R (default 3),
 * --only post|get|scale (does not write BENCH.md; scale: only the 2,000-run sweep rows of bench/scale.ts). No worker consumes the bench's runs: between rounds they
 * are marked finished, so a POST round longer than ~6 s brings tenants to the 256-active-runs limit
 * and its 429s show in the last column.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { applyMigrations, dropDatabase, ensureDatabase } from "@actlab/db";
import { createRedis, TRAINING_JOB_NAME, TRAINING_JOB_OPTIONS, TRAINING_QUEUE } from "@actlab/queue";
import autocannon from "autocannon";
import { Queue } from "bullmq";
import pg from "pg";
import { smallRequest } from "../../../tests/support/fixtures.js";
import { deletePrefix } from "../../../tests/support/redis.js";
import { runScaleBench } from "./scale.js";

const PG_SERVER = process.env.BENCH_DATABASE_SERVER ?? "postgresql://postgres@127.0.0.1:5432";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const POOL_SIZE = 10;
/** Tenants the POST load rotates through, so the 256-active-runs-per-tenant limit is never what is measured. */
const TENANTS = 100;

const SPEC = smallRequest("bench");

// ---------------------------------------------------------------- servers (child processes)

/** Where a bench server stores, enqueues and listens. */
interface ServerArgs {
  databaseUrl: string;
  prefix: string;
  port: number;
}

async function serveActlab({ databaseUrl, prefix, port }: ServerArgs) {
  const { buildApp } = await import("../src/app.js");
  const { parseEnv } = await import("../src/env.js");
  const env = parseEnv({
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: "silent",
    RATE_LIMIT_MAX: "100000000",
    DB_POOL_SIZE: String(POOL_SIZE),
  });
  const app = await buildApp({ env });
  await app.listen({ port, host: "127.0.0.1" });
  return () => app.close();
}

/**
 * The baseline: the same I/O with nothing around it, so its SQL is plain node-postgres on purpose
 * (the one place outside packages/db that writes SQL; it measures what actlab's layers cost).
 */
async function serveBaseline({ databaseUrl, prefix, port }: ServerArgs) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: POOL_SIZE });
  const connection = createRedis(REDIS_URL, { role: "producer" });
  const queue = new Queue(TRAINING_QUEUE, { connection, prefix });
  const tenant = await pool.query<{ id: string }>(
    `INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), 'baseline-${randomBytes(3).toString("hex")}') RETURNING id`,
  );
  const tenantId = tenant.rows[0]!.id;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      try {
        if (req.method === "POST") {
          const spec = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof SPEC;
          const id = randomUUID();
          const client = await pool.connect();
          const runIds: string[] = [];
          try {
            await client.query("BEGIN");
            await client.query(
              `INSERT INTO experiments (id, "tenantId", name, spec, status) VALUES ($1, $2, $3, $4, 'queued')`,
              [id, tenantId, spec.name, JSON.stringify(spec)],
            );
            for (const [variantIndex, variant] of spec.variants.entries()) {
              const runId = randomUUID();
              runIds.push(runId);
              await client.query(
                `INSERT INTO runs (id, "experimentId", "variantIndex", variant, repeat, seed, device, epochs)
                 VALUES ($1, $2, $3, $4, 0, 1, 'cpu', $5)`,
                [runId, id, variantIndex, JSON.stringify(variant), spec.training.epochs],
              );
            }
            await client.query("COMMIT");
          } catch (err) {
            await client.query("ROLLBACK");
            throw err;
          } finally {
            client.release();
          }
          await queue.addBulk(
            runIds.map((runId) => ({
              name: TRAINING_JOB_NAME,
              data: { runId, experimentId: id },
              opts: { ...TRAINING_JOB_OPTIONS, jobId: runId },
            })),
          );
          res.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify({ id, runIds }));
        } else {
          const id = req.url!.split("/").pop()!;
          const r = await pool.query(
            `SELECT e.*, (SELECT json_agg(r) FROM runs r WHERE r."experimentId" = e.id) AS runs
             FROM experiments e WHERE e.id = $1`,
            [id],
          );
          if (!r.rows[0]) res.writeHead(404).end();
          else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(r.rows[0]));
        }
      } catch (err) {
        res.writeHead(500).end(String(err));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return async () => {
    server.close();
    await queue.close();
    connection.disconnect();
    await pool.end();
  };
}

async function childMain(kind: string, args: ServerArgs) {
  const close = kind === "actlab" ? await serveActlab(args) : await serveBaseline(args);
  process.stdout.write("ready\n");
  process.on("SIGTERM", () => {
    close().finally(() => process.exit(0));
  });
}

// ---------------------------------------------------------------- runner

interface Row {
  scenario: string;
  server: string;
  /** Server CPU time per request (load-independent cost; Linux only). */
  cpuMsPerRequest: number;
  /** CPU time of the server's Postgres backends per request. */
  pgCpuMsPerRequest: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

function startChild(kind: string, args: ServerArgs): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      // BENCH_PROFILE=dir writes a CPU profile of each server (node --cpu-prof) there.
      ...(process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []),
      fileURLToPath(import.meta.url),
      "--serve",
      kind,
      "--db",
      args.databaseUrl,
      "--prefix",
      args.prefix,
      "--port",
      String(args.port),
    ],
    // Names the server's Postgres sessions (node-postgres reads PGAPPNAME), so the bench can
    // find their backend processes and add up the database CPU each server causes.
    { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, PGAPPNAME: `actlab-bench-${kind}` } },
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} server did not start in 60 s`)), 60_000);
    child.stdout!.on("data", (d: Buffer) => {
      if (d.toString().includes("ready")) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on("exit", (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
}

async function stopChild(child: ChildProcess) {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
}

async function load(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

interface Target {
  server: "actlab" | "baseline";
  pid: number;
  base: string;
  path: string;
  id: string;
  headers: (i: number) => Record<string, string>;
}

/** CPU seconds the Postgres backends of a bench server (by application_name) have used so far. */
async function postgresCpuSeconds(monitor: pg.Pool, server: Target["server"]): Promise<number> {
  const { rows } = await monitor.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
    [`actlab-bench-${server}`],
  );
  return rows.reduce((sum, r) => sum + cpuSeconds(r.pid), 0);
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return Number.NaN;
  }
}

async function prepare(server: Target["server"], pid: number, port: number, keys: string[]): Promise<Target> {
  const base = `http://127.0.0.1:${port}`;
  const headers = (i: number): Record<string, string> => ({
    "content-type": "application/json",
    ...(keys.length ? { authorization: `Bearer ${keys[i % keys.length]}` } : {}),
  });
  const path = server === "actlab" ? "/v1/experiments" : "/experiments";
  // One experiment for the GET scenario.
  const created = await fetch(`${base}${path}`, {
    method: "POST",
    headers: headers(0),
    body: JSON.stringify(SPEC),
  });
  if (created.status !== 202)
    throw new Error(`${server}: POST answered ${created.status}: ${await created.text()}`);
  const { id } = (await created.json()) as { id: string };
  // Warm-up, not recorded: the JIT needs several seconds of traffic before a server runs at speed
  // (actlab's first seconds under load cost ~4× the CPU per request of its steady state).
  await load({ url: `${base}${path}/${id}`, connections: 50, duration: 10, headers: headers(0) });
  let n = 0;
  await load({
    url: `${base}${path}`,
    connections: 20,
    duration: 6,
    method: "POST",
    requests: [
      {
        method: "POST",
        body: JSON.stringify(SPEC),
        setupRequest: (req) => ({ ...req, headers: headers(n++) }),
      },
    ],
  });
  return { server, pid, base, path, id, headers };
}

const SCENARIOS = ["POST /v1/experiments", "GET /v1/experiments/:id"] as const;
type Scenario = (typeof SCENARIOS)[number];

async function measure(
  t: Target,
  scenario: Scenario,
  { duration, connections, monitor }: { duration: number; connections: number; monitor: pg.Pool },
): Promise<Row> {
  let n = 0;
  // A short unrecorded run of the same scenario first: the previous one (other routes) leaves
  // the JIT tuned for different code, and the recorded seconds should show the steady state.
  await load({ url: `${t.base}${t.path}/${t.id}`, connections, duration: 2, headers: t.headers(0) });
  if (scenario === "POST /v1/experiments") {
    await load({
      url: `${t.base}${t.path}`,
      connections,
      duration: 2,
      method: "POST",
      requests: [
        {
          method: "POST",
          body: JSON.stringify(SPEC),
          setupRequest: (req) => ({ ...req, headers: t.headers(n++) }),
        },
      ],
    });
  }
  // The pools are full after the warm-up above, so the same backends serve the whole window.
  const pgCpuBefore = await postgresCpuSeconds(monitor, t.server);
  const cpuBefore = cpuSeconds(t.pid);
  const r =
    scenario === "POST /v1/experiments"
      ? await load({
          url: `${t.base}${t.path}`,
          connections,
          duration,
          method: "POST",
          requests: [
            {
              method: "POST",
              body: JSON.stringify(SPEC),
              setupRequest: (req) => ({ ...req, headers: t.headers(n++) }),
            },
          ],
        })
      : await load({ url: `${t.base}${t.path}/${t.id}`, connections, duration, headers: t.headers(0) });
  return {
    scenario,
    server: t.server,
    cpuMsPerRequest: ((cpuSeconds(t.pid) - cpuBefore) * 1000) / Math.max(1, r.requests.total),
    pgCpuMsPerRequest:
      (((await postgresCpuSeconds(monitor, t.server)) - pgCpuBefore) * 1000) / Math.max(1, r.requests.total),
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.non2xx + r.errors + r.timeouts,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function finishQueuedRuns(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // What workers do when runs end: the runs, then their experiments' status (refreshExperimentStatus).
    await client.query(`UPDATE runs SET status = 'succeeded' WHERE status IN ('queued', 'running')`);
    await client.query(`UPDATE experiments SET status = 'succeeded' WHERE status IN ('queued', 'running')`);
    // Workers finish runs a few at a time and autovacuum keeps up; this mass update instead leaves a
    // round's worth of dead index entries that the next round's active-runs check would wade through
    // (measured: actlab's Postgres CPU per POST rose 0.46 → 0.51 → 0.58 ms over three rounds).
    await client.query("VACUUM (ANALYZE) experiments, runs");
  } finally {
    await client.end();
  }
}

async function runnerMain({
  duration,
  connections,
  rounds,
  only,
}: {
  duration: number;
  connections: number;
  rounds: number;
  only: string | undefined;
}) {
  const database = `actlab_bench_${randomBytes(4).toString("hex")}`;
  const databaseUrl = `${PG_SERVER}/${database}`;
  const prefix = `actlab-bench-${randomBytes(4).toString("hex")}`;
  await ensureDatabase(databaseUrl);
  await applyMigrations({ url: databaseUrl });
  const children: ChildProcess[] = [];
  try {
    // Keys for TENANTS tenants, made with the API's own code.
    const { createDb } = await import("@actlab/db");
    const { createApiKey } = await import("../src/services/api-keys.js");
    const db = createDb({ url: databaseUrl, poolSize: 4 });
    const keys: string[] = [];
    for (let i = 0; i < TENANTS; i++) keys.push((await createApiKey(db, { tenant: `bench-${i}` })).key);
    await db.close();

    const targets: Target[] = [];
    for (const [server, port] of [
      ["actlab", 39_401],
      ["baseline", 39_402],
    ] as const) {
      const child = await startChild(server, { databaseUrl, prefix, port });
      children.push(child);
      targets.push(await prepare(server, child.pid!, port, server === "actlab" ? keys : []));
    }
    // Rounds alternate the two servers, so load from anything else on the machine hits both alike.
    const rows: Row[] = [];
    const monitor = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    const scenarios = SCENARIOS.filter((s) => !only || s.toLowerCase().startsWith(only.toLowerCase()));
    for (let round = 1; round <= rounds; round++) {
      for (const scenario of scenarios) {
        for (const t of round % 2 ? targets : [...targets].reverse()) {
          process.stderr.write(`round ${round}/${rounds}: ${scenario} on ${t.server}…\n`);
          // No worker consumes the bench's jobs: mark earlier rounds' runs finished, as workers
          // would, so no tenant reaches its active-runs limit and POST measures creation, not 429s.
          await finishQueuedRuns(databaseUrl);
          rows.push(await measure(t, scenario, { duration, connections, monitor }));
        }
      }
    }
    await monitor.end();
    for (const c of children) await stopChild(c);
    const table = formatTable(rows, { duration, connections, rounds, scenarios });
    process.stdout.write(`${table}\n`);
    if (!only) writeFileSync(fileURLToPath(new URL("../BENCH.md", import.meta.url)), table);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    const redis = createRedis(REDIS_URL, { role: "worker" });
    await deletePrefix(redis, prefix);
    redis.disconnect();
    await dropDatabase(databaseUrl);
  }
}

function formatTable(
  rows: Row[],
  {
    duration,
    connections,
    rounds,
    scenarios,
  }: { duration: number; connections: number; rounds: number; scenarios: readonly Scenario[] },
): string {
  const lines = [
    "# `npm run bench:api`",
    "",
    `${new Date().toISOString()} · ${cpus().length} cores · load average at the end ${loadavg()[0]!.toFixed(1)} · ` +
      `${connections} connections · ${rounds} alternating rounds of ${duration} s per scenario and server (median shown) · ` +
      `servers and load generator in separate processes on 127.0.0.1 · Postgres pool ${POOL_SIZE} each`,
    "",
    "| scenario | actlab req/s | baseline req/s | actlab/baseline | actlab p50 / p99 ms | baseline p50 / p99 ms | server CPU ms/request (actlab / baseline) | Postgres CPU ms/request (actlab / baseline) | non-2xx+errors (actlab/baseline) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const pick = (scenario: Scenario, server: string) =>
    rows.filter((r) => r.scenario === scenario && r.server === server);
  const rps = (xs: Row[]) => median(xs.map((r) => r.rps));
  for (const scenario of scenarios) {
    const a = pick(scenario, "actlab");
    const b = pick(scenario, "baseline");
    const lat = (xs: Row[]) => `${median(xs.map((r) => r.p50))} / ${median(xs.map((r) => r.p99))}`;
    const errors = (xs: Row[]) => xs.reduce((s, r) => s + r.errors, 0);
    const cpu = (xs: Row[]) => median(xs.map((r) => r.cpuMsPerRequest));
    const pgCpu = (xs: Row[]) => median(xs.map((r) => r.pgCpuMsPerRequest));
    lines.push(
      `| ${scenario} | ${rps(a).toFixed(0)} | ${rps(b).toFixed(0)} | ${(rps(a) / rps(b)).toFixed(2)} | ` +
        `${lat(a)} | ${lat(b)} | ${cpu(a).toFixed(3)} / ${cpu(b).toFixed(3)} | ` +
        `${pgCpu(a).toFixed(3)} / ${pgCpu(b).toFixed(3)} | ${errors(a)} / ${errors(b)} |`,
    );
  }
  const perRound = scenarios.map(
    (s) =>
      `${s.split(" ")[0]}: actlab ${pick(s, "actlab")
        .map((r) => r.rps.toFixed(0))
        .join(", ")} vs baseline ${pick(s, "baseline")
        .map((r) => r.rps.toFixed(0))
        .join(", ")}`,
  );
  const cpuPerRound = scenarios.map(
    (s) =>
      `${s.split(" ")[0]}: actlab ${pick(s, "actlab")
        .map((r) => `${r.cpuMsPerRequest.toFixed(3)}+${r.pgCpuMsPerRequest.toFixed(3)}`)
        .join(", ")} vs baseline ${pick(s, "baseline")
        .map((r) => `${r.cpuMsPerRequest.toFixed(3)}+${r.pgCpuMsPerRequest.toFixed(3)}`)
        .join(", ")}`,
  );
  lines.push(
    "",
    `Each round (req/s) — ${perRound.join("; ")}.`,
    "",
    `Each round (CPU ms/request, server + Postgres) — ${cpuPerRound.join("; ")}.`,
    "",
    "actlab: Fastify + zod request validation (these two routes' DTO responses are serialized without re-validation), " +
      "API-key auth (cached), per-key rate limit in Redis, Idempotency/active-runs checks under a per-tenant advisory lock " +
      "(active runs bounded by the stored runCount, counted exactly only near the limit), one transaction, BullMQ addBulk; POST load " +
      `rotates over ${TENANTS} tenants' keys. Baseline: node:http + pg + BullMQ doing only the inserts/add (POST) ` +
      "or one select with the runs (GET). Targets: ≥ 0.8 of baseline throughput; GET p99 ≤ 25 ms.",
    "",
    "When other work shares the cores (see the load average), each server gets a share of CPU time, so " +
      "req/s follows the CPU columns: CPU per request (the server's, and its Postgres backends') is the comparison " +
      "that does not depend on the load.",
    "",
  );
  return lines.join("\n");
}

const { values } = parseArgs({
  options: {
    serve: { type: "string" },
    db: { type: "string" },
    prefix: { type: "string" },
    port: { type: "string" },
    duration: { type: "string", default: "5" },
    connections: { type: "string", default: "50" },
    rounds: { type: "string", default: "3" },
    only: { type: "string" },
  },
});
if (values.serve) {
  await childMain(values.serve, {
    databaseUrl: values.db!,
    prefix: values.prefix!,
    port: Number(values.port),
  });
} else if (values.only === "scale") {
  process.stdout.write(`${await runScaleBench()}\n`);
  process.exit(0);
} else {
  await runnerMain({
    duration: Number(values.duration),
    connections: Number(values.connections),
    rounds: Number(values.rounds),
    only: values.only,
  });
  if (!values.only) {
    // The scale rows (issue 14) follow the throughput table, in the same BENCH.md.
    const scale = await runScaleBench();
    process.stdout.write(`${scale}\n`);
    appendFileSync(fileURLToPath(new URL("../BENCH.md", import.meta.url)), `\n${scale}\n`);
  }
  process.exit(0);
}
