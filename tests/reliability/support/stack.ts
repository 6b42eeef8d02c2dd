import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, existsSync, mkdirSync, readFileSync, type WriteStream } from "node:fs";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { createApiKey } from "../../../apps/api/src/services/api-keys.js";
import type { Db, Experiment } from "../../../packages/db/src/index.js";
import { createRedis } from "../../../packages/queue/src/index.js";
import {
  createTestDatabase,
  deletePrefix,
  type LogLine,
  parseLogLine,
  TEST_REDIS_URL,
  testPrefix,
  waitFor as waitForCondition,
} from "../../support/index.js";
import { validSpec } from "./fuzz.js";
import { PROBE, ROOT } from "./paths.js";
import { RESULTS_DIR } from "./results.js";

export const API_MAIN = `${ROOT}/apps/api/dist/server.js`;
export const WORKER_MAIN = `${ROOT}/apps/worker/dist/main.js`;

export type { LogLine };

/** One child process (API or worker) with its output captured to memory and to a file. */
export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Every stdout line parsed as pino JSON (non-JSON lines kept as msg). */
  logs: LogLine[];
  /** Raw stdout + stderr lines, for grepping secrets. */
  raw: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs?: number, fromIndex?: number): Promise<LogLine>;
  kill(signal?: NodeJS.Signals): void;
}

export function spawnProc(
  name: string,
  args: string[],
  env: Record<string, string>,
  logDir: string,
  /** Node by default; the distributed tests start `ip netns exec <host> …` (which execs in place, so pid and signals reach the program). */
  command: string = process.execPath,
): Proc {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const file: WriteStream = createWriteStream(`${logDir}/${name}.log`, { flags: "a" });
  const logs: LogLine[] = [];
  const raw: string[] = [];
  const waiters = new Set<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  createInterface({ input: child.stdout! }).on("line", (line) => {
    raw.push(line);
    file.write(`${line}\n`);
    const parsed = parseLogLine(line);
    logs.push(parsed);
    for (const w of [...waiters]) {
      if (w.pred(parsed)) {
        waiters.delete(w);
        w.resolve(parsed);
      }
    }
  });
  createInterface({ input: child.stderr! }).on("line", (line) => {
    raw.push(line);
    file.write(`[stderr] ${line}\n`);
  });
  const exited = once(child, "exit").then(([code, signal]) => {
    file.end();
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    pid: child.pid!,
    logs,
    raw,
    exited,
    alive,
    waitForLog(pred, timeoutMs = 60_000, fromIndex = 0) {
      const found = logs.slice(fromIndex).find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = {
          pred,
          resolve: (l: LogLine) => {
            clearTimeout(timer);
            resolve(l);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(
            new Error(
              `${name}: log line not seen within ${timeoutMs} ms; last:\n${raw.slice(-10).join("\n")}`,
            ),
          );
        }, timeoutMs);
        waiters.add(w);
        void exited.then(() => {
          if (waiters.delete(w)) {
            clearTimeout(timer);
            reject(new Error(`${name} exited before the log line; last:\n${raw.slice(-10).join("\n")}`));
          }
        });
      });
    },
    kill(signal = "SIGTERM") {
      if (alive()) child.kill(signal);
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** waitFor through restarts: a check that throws (its service is down) is polled again. */
export const waitFor = <T>(
  fn: () => Promise<T | null | undefined | false>,
  options: Omit<Parameters<typeof waitForCondition>[1], "retryErrors"> = {},
) => waitForCondition(fn, { intervalMs: 250, ...options, retryErrors: true });

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  ms: number;
  // biome-ignore lint/suspicious/noExplicitAny: scenarios read fields of many response shapes
  json<T = any>(): T;
}

/**
 * Short worker timings (as the worker's own process tests use) so a killed run restarts in ~3 s
 * and a lost job is re-enqueued in ~2 s. Only for scenarios that kill workers or lose jobs: under
 * heavy load a 2 s lock can expire while a run is still training, and it is then taken over.
 */
export const FAST_WORKER_ENV = {
  WORKER_LOCK_DURATION_MS: "2000",
  WORKER_STALLED_INTERVAL_MS: "1000",
  WORKER_MAX_STALLED_COUNT: "20",
  CANCEL_POLL_MS: "500",
  HEARTBEAT_MS: "1000",
  RECONCILE_INTERVAL_MS: "1000",
  RECONCILE_GRACE_MS: "2000",
  RECONCILE_STALE_MS: "5000",
  MAX_RUN_ATTEMPTS: "30",
};

export interface StackOptions {
  label: string;
  workers?: number;
  apiEnv?: Record<string, string>;
  workerEnv?: Record<string, string>;
  /** FAST_WORKER_ENV instead of the worker's default lock, stall and reconcile timings. */
  fastRecovery?: boolean;
  /** Sample worker RSS and tensor count into <logDir>/probe.jsonl. */
  probe?: boolean;
}

export interface Stack {
  baseUrl: string;
  port: number;
  apiKey: string;
  databaseUrl: string;
  prefix: string;
  db: Db;
  logDir: string;
  probeFile: string;
  api: Proc;
  workers: Proc[];
  /** Every process ever started by this stack (killed ones included). */
  all: Proc[];
  env: { api: Record<string, string>; worker: Record<string, string> };
  startWorker(): Promise<Proc>;
  /** A new tenant with a key of its own. */
  newKey(tenant: string): Promise<{ key: string; id: string; tenantId: string; prefix: string }>;
  /** Revokes a key with the operator CLI (`npm run apikey -- revoke`), as a person would; its output. */
  revokeKey(keyOrPrefix: string): Promise<{ stdout: string; stderr: string }>;
  /** Waits until the experiment is in a terminal status (read from Postgres) and returns its row. */
  finished(id: string, opts?: { timeoutMs?: number }): Promise<Experiment>;
  http(
    method: string,
    path: string,
    opts?: {
      key?: string | null;
      body?: unknown;
      raw?: string | Buffer;
      headers?: Record<string, string>;
      timeoutMs?: number;
    },
  ): Promise<HttpResult>;
  /** Every captured line of every process. */
  allOutput(): string;
  stop(): Promise<void>;
}

/**
 * The real system on loopback: the built API (apps/api/dist/server.js) and worker processes
 * (apps/worker/dist/main.js --device cpu), as scripts/start.ts runs them, but each stack with a
 * port, a database (copied from the migrated template), a BullMQ prefix and a bootstrap key of
 * its own, so scenarios never touch anyone else's data.
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  if (!existsSync(API_MAIN) || !existsSync(WORKER_MAIN)) {
    throw new Error("apps are not built: run `npx tsc -b` (the reliability global setup does)");
  }
  const tdb = await createTestDatabase(`rel_${opts.label}`);
  const prefix = testPrefix(`rel-${opts.label}`);
  const port = await freePort();
  const apiKey = `rel_${randomBytes(24).toString("hex")}`;
  const logDir = `${RESULTS_DIR}/${opts.label}-${randomBytes(3).toString("hex")}`;
  mkdirSync(logDir, { recursive: true });
  const probeFile = `${logDir}/probe.jsonl`;
  const common = {
    DATABASE_URL: tdb.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: "info",
  };
  const apiEnv = {
    ...common,
    PORT: String(port),
    HOST: "127.0.0.1",
    ACTLAB_BOOTSTRAP_API_KEY: apiKey,
    DASHBOARD_DIR: "/nonexistent-dashboard",
    RATE_LIMIT_MAX: "1000000",
    AUTH_FAILURE_LIMIT: "1000000", // the fuzz sends odd keys on purpose; security sets its own
    ...opts.apiEnv,
  };
  const workerEnv: Record<string, string> = {
    ...common,
    ...(opts.fastRecovery ? FAST_WORKER_ENV : {}),
    ...opts.workerEnv,
  };
  if (opts.probe) workerEnv.RELIABILITY_PROBE_FILE = probeFile;

  const all: Proc[] = [];
  const workers: Proc[] = [];
  let n = 0;
  const api = spawnProc("api", [API_MAIN], apiEnv, logDir);
  all.push(api);
  const baseUrl = `http://127.0.0.1:${port}`;

  const http: Stack["http"] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    const key = o.key === undefined ? apiKey : o.key;
    if (key !== null && !("authorization" in headers)) headers.authorization = `Bearer ${key}`;
    let body: string | Buffer | undefined;
    if (o.raw !== undefined) body = o.raw;
    else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers["content-type"] ??= "application/json";
    }
    const started = performance.now();
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
    });
    const text = await res.text();
    const ms = performance.now() - started;
    return { status: res.status, headers: res.headers, text, ms, json: () => JSON.parse(text) };
  };

  const startWorker = async () => {
    n += 1;
    const w = spawnProc(
      `worker-${n}`,
      ["--require", PROBE, WORKER_MAIN, "--device", "cpu"],
      { ...workerEnv, WORKER_ID: `${opts.label}-w${n}` },
      logDir,
    );
    all.push(w);
    workers.push(w);
    await w.waitForLog((l) => l.msg === "worker started", 60_000);
    return w;
  };

  const stop = async () => {
    for (const p of all) p.kill("SIGTERM");
    await Promise.all(all.map((p) => Promise.race([p.exited, sleep(12_000).then(() => p.kill("SIGKILL"))])));
    await Promise.all(all.map((p) => p.exited));
    const redis = createRedis(TEST_REDIS_URL, { role: "worker" });
    await deletePrefix(redis, prefix).catch(() => {});
    redis.disconnect();
    await tdb.drop().catch(() => {});
  };

  try {
    await waitFor(
      async () => (await http("GET", "/readyz", { key: null, timeoutMs: 3_000 })).status === 200,
      {
        timeoutMs: 60_000,
        what: "the API's /readyz",
      },
    );
    await Promise.all(Array.from({ length: opts.workers ?? 0 }, () => startWorker()));
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    baseUrl,
    port,
    apiKey,
    databaseUrl: tdb.url,
    prefix,
    db: tdb.db,
    logDir,
    probeFile,
    api,
    workers,
    all,
    env: { api: apiEnv, worker: workerEnv },
    startWorker,
    newKey: (tenant) => createApiKey(tdb.db, { tenant: `${tenant}-${prefix}` }),
    // The CLI reaches the APIs of its QUEUE_PREFIX (revocation is published under it).
    revokeKey: (keyOrPrefix) =>
      promisify(execFile)(process.execPath, [`${ROOT}/apps/api/dist/cli/apikey.js`, "revoke", keyOrPrefix], {
        env: { ...process.env, DATABASE_URL: tdb.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix },
      }),
    finished: (id, { timeoutMs = 60_000 } = {}) =>
      waitFor(
        async () => {
          const e = await tdb.db.experiment.findUniqueOrThrow({ where: { id } });
          return TERMINAL.includes(e.status) ? e : null;
        },
        { timeoutMs, intervalMs: 500, what: `experiment ${id} to finish` },
      ),
    http,
    allOutput: () => all.map((p) => p.raw.join("\n")).join("\n"),
    stop,
  };
}

export interface ProbeSample {
  t: number;
  pid: number;
  main: boolean;
  rss: number;
  heap: number;
  tensors: number | null;
  /** wasm backend linear memory of the training thread, bytes. */
  wasm?: number | null;
  heapTotal?: number;
  /** This thread's heapUsed just after its latest major GC (null before the first). */
  heapAfterGc?: number | null;
  majorGcs?: number;
  /** Anonymous resident memory of the process (main-thread samples only). */
  rssAnon?: number | null;
}

export function readProbe(file: string): ProbeSample[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ProbeSample);
}

/** A tiny experiment body (the load scenario's unit of work): the fuzz's valid spec. */
export function tinyExperiment(name: string, overrides: Record<string, unknown> = {}) {
  return { ...validSpec(name), ...overrides };
}

export const TERMINAL = ["succeeded", "failed", "canceled", "partial"];
