// Finds Postgres and Redis, starts the local ones when they are down and this machine can
// (a Debian cluster via pg_ctlcluster, a redis-server binary), and otherwise says exactly
// what is missing, where it looked and how to start it.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { Redis } from "ioredis";
import { canReachPostgres, redactUrl } from "../../packages/db/src/index.js";

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);
const isLocal = (url: string) => LOCAL_HOSTS.has(new URL(url).hostname);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function canReachRedis(url: string): Promise<string | null> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 2000,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    redis.disconnect();
  }
}

function tryStartPostgres(): boolean {
  if (!existsSync("/etc/postgresql")) return false;
  const versions = readdirSync("/etc/postgresql");
  const version = versions.sort().at(-1);
  if (!version) return false;
  const r = spawnSync("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", "start"], {
    stdio: "inherit",
  });
  return r.status === 0;
}

/** The flags every actlab script starts a local Redis with (no persistence, loopback only). */
export function redisServerArgs(port = "6379"): string[] {
  return [
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    port,
    "--save",
    "",
    "--appendonly",
    "no",
  ];
}

function tryStartRedis(url: string): boolean {
  const port = new URL(url).port || "6379";
  try {
    execFileSync("which", ["redis-server"], { stdio: "ignore" });
  } catch {
    return false;
  }
  const r = spawnSync("redis-server", redisServerArgs(port), { stdio: "inherit" });
  return r.status === 0;
}

async function waitFor(check: () => Promise<string | null>, seconds: number): Promise<string | null> {
  let last: string | null = "not tried";
  for (let i = 0; i < seconds * 4; i++) {
    last = await check();
    if (!last) return null;
    await sleep(250);
  }
  return last;
}

/** Makes sure both services answer; starts local ones if allowed. Throws a message a person can act on. */
export async function ensureServices({
  databaseUrl,
  redisUrl,
  start,
}: {
  databaseUrl: string;
  redisUrl: string;
  start: boolean;
}): Promise<void> {
  const problems: string[] = [];

  let pgError = await canReachPostgres(databaseUrl);
  if (pgError && start && isLocal(databaseUrl) && tryStartPostgres())
    pgError = await waitFor(() => canReachPostgres(databaseUrl), 20);
  if (pgError) {
    problems.push(
      `Postgres is not reachable at ${redactUrl(databaseUrl)} (${pgError}).\n` +
        `  Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n` +
        `  or with Docker: docker compose up -d postgres redis\n` +
        `  or point DATABASE_URL at your server.`,
    );
  }

  let redisError = await canReachRedis(redisUrl);
  if (redisError && start && isLocal(redisUrl) && tryStartRedis(redisUrl))
    redisError = await waitFor(() => canReachRedis(redisUrl), 10);
  if (redisError) {
    problems.push(
      `Redis is not reachable at ${redactUrl(redisUrl)} (${redisError}).\n` +
        `  Start it: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no\n` +
        `  or with Docker: docker compose up -d postgres redis\n` +
        `  or point REDIS_URL at your server.`,
    );
  }
  if (problems.length) throw new Error(problems.join("\n"));
}
