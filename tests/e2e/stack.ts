import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dropDatabase } from "../../packages/db/src/index.js";
import { createRedis } from "../../packages/queue/src/index.js";
import { freePort } from "../reliability/support/stack.js";
import { deletePrefix } from "../support/redis.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PG_SERVER = process.env["TEST_DATABASE_SERVER"] ?? "postgresql://postgres@127.0.0.1:5432";
const REDIS_URL = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";

export interface Stack {
  baseUrl: string;
  apiKey: string;
  /** The stack's own database (tests read what the API does not show, e.g. which worker holds a run). */
  databaseUrl: string;
  logFile: string;
  /** Process ids of the stack's worker processes (to stop or pause one, as a crash would). */
  workerPids(): number[];
  stop(): Promise<void>;
}

/** Every process below `root` (children, grandchildren, …) with its command line, from /proc. */
function descendants(root: number): Array<{ pid: number; cmdline: string }> {
  const procs = readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        // Field 4 of /proc/<pid>/stat is the parent; the command name (field 2) may hold spaces.
        const stat = readFileSync(`/proc/${d}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        const cmdline = readFileSync(`/proc/${d}/cmdline`, "utf8").replace(/\0/g, " ");
        return [{ pid: Number(d), ppid, cmdline }];
      } catch {
        return []; // exited meanwhile
      }
    });
  const out: Array<{ pid: number; cmdline: string }> = [];
  const walk = (pid: number) => {
    for (const p of procs.filter((x) => x.ppid === pid)) {
      out.push(p);
      walk(p.pid);
    }
  };
  walk(root);
  return out;
}

/**
 * `npm run build -w @actlab/dashboard`, so the API serves exactly this checkout's UI. Not
 * spawnSync: a build of a minute or more on a loaded machine would block the test worker's event
 * loop, and vitest fails the run when its worker cannot report ("Timeout calling onTaskUpdate").
 */
export async function buildDashboard(): Promise<void> {
  // vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
  const child = spawn("npm", ["run", "build", "-w", "@actlab/dashboard"], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`dashboard build failed:\n${out}`);
}

/**
 * Starts the real service the way a user does (`scripts/start.ts`: API + WORKERS workers) on a
 * free port, with a database, a BullMQ prefix and a bootstrap API key of its own.
 */
export async function startStack({
  workers = 1,
  label = "e2e",
  env = {},
}: {
  workers?: number;
  label?: string;
  /** More environment for the API and the workers (timings a test needs shorter). */
  env?: Record<string, string>;
} = {}): Promise<Stack> {
  const port = await freePort();
  const suffix = randomBytes(4).toString("hex");
  const databaseUrl = `${PG_SERVER}/actlab_${label}_${suffix}`;
  const apiKey = `e2e_${randomBytes(24).toString("hex")}`;
  const queuePrefix = `actlab-${label}-${suffix}`;
  mkdirSync(`${ROOT}/artifacts/e2e`, { recursive: true });
  const logFile = `${ROOT}/artifacts/e2e/stack-${suffix}.log`;
  const log = createWriteStream(logFile);

  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", "--conditions=source", "scripts/start.ts"],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        ...env,
        DATABASE_URL: databaseUrl,
        PORT: String(port),
        WORKERS: String(workers),
        GPU_WORKERS: "0",
        QUEUE_PREFIX: queuePrefix,
        ACTLAB_BOOTSTRAP_API_KEY: apiKey,
        LOG_LEVEL: "warn",
      },
      detached: true, // its own process group, so stop() reaches the API and workers too
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      process.kill(child.pid, "SIGTERM");
      const done = await Promise.race([exited, new Promise((r) => setTimeout(() => r("timeout"), 20_000))]);
      if (done === "timeout") process.kill(-child.pid, "SIGKILL");
    }
    log.end();
    await dropDatabase(databaseUrl).catch(() => undefined);
    const redis = createRedis(REDIS_URL, { role: "worker" }); // queues commands until connected
    await deletePrefix(redis, queuePrefix).catch(() => undefined);
    await redis.quit().catch(() => undefined);
  };

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`scripts/start.ts exited with ${child.exitCode}; see ${logFile}`);
    }
    try {
      const res = await fetch(`${baseUrl}/readyz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`API not ready on ${baseUrl} within 180 s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const workerPids = () =>
    child.pid
      ? descendants(child.pid)
          .filter((p) => p.cmdline.includes("apps/worker/dist/main.js"))
          .map((p) => p.pid)
      : [];
  return { baseUrl, apiKey, databaseUrl, logFile, workerPids, stop };
}
