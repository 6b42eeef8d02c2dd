import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { promisify } from "node:util";
import { canReachPostgres } from "../../../packages/db/src/index.js";
import { redisServerArgs } from "../../../scripts/lib/services.js";
import { TEST_PG_SERVER } from "../../support/index.js";
import { sleep, waitFor } from "./stack.js";

// Restarting the machine's shared Redis and Postgres, for every scenario here and for the
// worker's Redis-restart test (apps/worker/src/__tests__/redis-restart.reliability.ts).
// Every function that stops a service is paired with ensureServicesUp(), which the scenarios
// call in `finally` and afterAll, so a failing test never leaves the machine without them.

const run = promisify(execFile);
const PG_VERSION = () => readdirSync("/etc/postgresql").sort().at(-1)!;

export async function redisUp(): Promise<boolean> {
  try {
    const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", "6379", "ping"], { timeout: 2_000 });
    return stdout.trim() === "PONG";
  } catch {
    return false;
  }
}

export async function postgresUp(): Promise<boolean> {
  return (await canReachPostgres(`${TEST_PG_SERVER}/postgres`)) === null;
}

export async function stopRedis(): Promise<void> {
  await run("redis-cli", ["-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"]).catch(() => {});
  await waitFor(async () => !(await redisUp()), { timeoutMs: 20_000, what: "Redis to stop" });
}

export async function startRedis(): Promise<void> {
  if (await redisUp()) return;
  // No persistence: a restart loses every queued job.
  await run("redis-server", redisServerArgs());
  await waitFor(redisUp, { timeoutMs: 20_000, what: "Redis to answer PING" });
}

export async function stopPostgres(): Promise<void> {
  await run("pg_ctlcluster", ["--skip-systemctl-redirect", PG_VERSION(), "main", "stop", "-m", "fast"]);
  await waitFor(async () => !(await postgresUp()), { timeoutMs: 30_000, what: "Postgres to stop" });
}

export async function startPostgres(): Promise<void> {
  if (await postgresUp()) return;
  await run("pg_ctlcluster", ["--skip-systemctl-redirect", PG_VERSION(), "main", "start"]).catch(() => {});
  await waitFor(postgresUp, { timeoutMs: 30_000, what: "Postgres to accept connections" });
}

/** Whatever happened, leave both services running (tries a few times). */
export async function ensureServicesUp(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    try {
      await startRedis();
      await startPostgres();
      return;
    } catch (err) {
      if (i === 2) throw err;
      await sleep(1_000);
    }
  }
}
