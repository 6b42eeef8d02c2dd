import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { applyMigrations, ensureDatabase } from "../../../packages/db/src/index.js";
import { FAST_WORKER_ENV, type Proc, sleep, spawnProc, waitFor } from "../../reliability/support/stack.js";
import type { Host } from "./hosts.js";

const PG_BIN = "/usr/lib/postgresql/15/bin";
export const RELAY = new URL("./delay-relay.mjs", import.meta.url).pathname;
const ROOT = new URL("../../..", import.meta.url).pathname;
export const API_MAIN = `${ROOT}apps/api/dist/server.js`;
export const WORKER_MAIN = `${ROOT}apps/worker/dist/main.js`;
/** One-way latency the relays add when slowed (each direction). */
export const SLOW_MS = 100;

/** Ports on every host: the server on loopback (or its address), its delay relay on the address. */
export const PORTS = {
  pg: 5432,
  pgRelay: 5433,
  redis: 6379,
  redisRelay: 6380,
  api: 3001,
  apiRelay: 3000,
  lb: 8080,
};

/** Starts a program inside a host's namespace, its output kept in memory and in <logDir>/<name>.log. */
export function startIn(
  host: Host,
  name: string,
  cmd: string,
  args: string[],
  env: Record<string, string>,
  logDir: string,
): Proc {
  return spawnProc(name, ["netns", "exec", host.ns, cmd, ...args], env, logDir, "ip");
}

/** Every process and directory the stack made, so teardown finds them also after a failure. */
export class Registry {
  readonly procs: Proc[] = [];
  readonly dirs: string[] = [];
  readonly logDir: string;
  constructor(logDir: string) {
    this.logDir = logDir;
    mkdirSync(logDir, { recursive: true });
  }
  add(p: Proc): Proc {
    this.procs.push(p);
    return p;
  }
  tempDir(label: string): string {
    const d = mkdtempSync(`${tmpdir()}/actlab-dist-${label}-`);
    this.dirs.push(d);
    return d;
  }
  /** SIGTERM, then SIGKILL after `graceMs`, then the temp dirs. */
  async stopAll(graceMs = 8_000): Promise<void> {
    for (const p of this.procs) p.kill("SIGTERM");
    await Promise.all(
      this.procs.map((p) => Promise.race([p.exited, sleep(graceMs).then(() => p.kill("SIGKILL"))])),
    );
    await Promise.all(this.procs.map((p) => Promise.race([p.exited, sleep(2_000)])));
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}

/** A TCP delay relay on the host's address in front of a server on its loopback (off until SIGUSR1). */
export async function startRelay(reg: Registry, host: Host, listenPort: number, targetPort: number) {
  const p = reg.add(
    startIn(
      host,
      `relay-${host.name}-${listenPort}`,
      process.execPath,
      [RELAY, host.ip, String(listenPort), "127.0.0.1", String(targetPort), String(SLOW_MS)],
      {},
      reg.logDir,
    ),
  );
  await p.waitForLog((l) => l.msg.includes("ready"), 15_000);
  return p;
}

/** Its own Postgres cluster (initdb in a temp dir, as user postgres), the actlab database migrated. */
export async function startPostgres(reg: Registry, host: Host): Promise<{ proc: Proc; adminUrl: string }> {
  const dir = reg.tempDir("pg");
  chmodSync(dir, 0o755);
  const data = `${dir}/data`;
  mkdirSync(data);
  const pgUser = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
  const pgGroup = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
  chownSync(data, pgUser, pgGroup);
  const asPostgres = ["--reuid=postgres", "--regid=postgres", "--init-groups"];
  execFileSync("setpriv", [...asPostgres, `${PG_BIN}/initdb`, "-D", data, "-A", "trust", "-U", "postgres"], {
    stdio: "ignore",
  });
  writeFileSync(
    `${data}/pg_hba.conf`,
    "local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all 10.77.0.0/24 trust\n",
  );
  const proc = reg.add(
    startIn(
      host,
      "postgres",
      "setpriv",
      [
        ...asPostgres,
        `${PG_BIN}/postgres`,
        "-D",
        data,
        "-c",
        `listen_addresses=127.0.0.1,${host.ip}`,
        "-c",
        `port=${PORTS.pg}`,
        "-c",
        `unix_socket_directories=${data}`,
        "-c",
        "fsync=off",
        "-c",
        "max_connections=200",
      ],
      {},
      reg.logDir,
    ),
  );
  const adminUrl = `postgresql://postgres@${host.ip}:${PORTS.pg}`;
  await waitFor(
    async () => {
      execFileSync("pg_isready", ["-q", "-h", host.ip, "-p", String(PORTS.pg)]);
      return true;
    },
    { timeoutMs: 30_000, what: "the test's Postgres" },
  );
  await ensureDatabase(`${adminUrl}/actlab`);
  await applyMigrations({ url: `${adminUrl}/actlab` });
  return { proc, adminUrl };
}

export function startRedis(reg: Registry, host: Host, extra: string[] = [], port = PORTS.redis): Proc {
  // Its own directory: a replica's full sync writes an RDB file there even with saving off.
  const dir = reg.tempDir(`redis-${host.name}`);
  return reg.add(
    startIn(
      host,
      `redis-${host.name}`,
      "redis-server",
      [
        "--bind",
        `127.0.0.1 ${host.ip}`,
        "--port",
        String(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "no",
        "--maxmemory-policy",
        "noeviction",
        "--dir",
        dir,
        ...extra,
      ],
      {},
      reg.logDir,
    ),
  );
}

export function redisCli(args: string[]): string {
  return execFileSync("redis-cli", args, { encoding: "utf8", timeout: 30_000 });
}

/** Three masters with one replica each, one node per host, created with `redis-cli --cluster create`. */
export async function startRedisCluster(reg: Registry, hosts: Host[]): Promise<{ procs: Map<string, Proc> }> {
  const dir = reg.tempDir("cluster");
  const procs = new Map<string, Proc>();
  for (const h of hosts) {
    procs.set(
      h.ip,
      startRedis(reg, h, [
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        `${dir}/nodes-${h.name}.conf`,
        "--cluster-node-timeout",
        "1500",
        "--cluster-announce-ip",
        h.ip,
      ]),
    );
  }
  for (const h of hosts) {
    await waitFor(async () => redisCli(["-h", h.ip, "-p", String(PORTS.redis), "ping"]).includes("PONG"), {
      timeoutMs: 15_000,
      what: `cluster node ${h.ip}`,
    });
  }
  redisCli([
    "--cluster",
    "create",
    ...hosts.map((h) => `${h.ip}:${PORTS.redis}`),
    "--cluster-replicas",
    "1",
    "--cluster-yes",
  ]);
  await waitFor(
    async () =>
      hosts.every((h) =>
        redisCli(["-h", h.ip, "-p", String(PORTS.redis), "cluster", "info"]).includes("cluster_state:ok"),
      ) &&
      clusterNodes(hosts[0]!).filter((n) => n.role === "slave" && n.linkState === "connected").length === 3,
    { timeoutMs: 30_000, intervalMs: 500, what: "the Redis Cluster to be ok with three replicas" },
  );
  return { procs };
}

export interface ClusterNodeInfo {
  id: string;
  ip: string;
  role: "master" | "slave";
  masterId: string | null;
  linkState: string;
  failed: boolean;
  slots: string[];
}

export function clusterNodes(via: Host): ClusterNodeInfo[] {
  return redisCli(["-h", via.ip, "-p", String(PORTS.redis), "cluster", "nodes"])
    .trim()
    .split("\n")
    .map((line) => {
      const [id, addr, flags, master, , , , link, ...slots] = line.split(" ");
      return {
        id: id!,
        ip: addr!.split(":")[0]!,
        role: flags!.includes("master") ? "master" : "slave",
        masterId: master === "-" ? null : master!,
        linkState: link!,
        failed: flags!.includes("fail"),
        slots,
      };
    });
}

/** HAProxy on the load-balancer host (deploy/haproxy.cfg's settings): round robin over the API relays, health-checked every second. */
export async function startHaproxy(reg: Registry, host: Host, apis: Host[]): Promise<Proc> {
  const dir = reg.tempDir("haproxy");
  const cfg = `${dir}/haproxy.cfg`;
  writeFileSync(
    cfg,
    [
      "global",
      "  maxconn 4000",
      "defaults",
      "  mode http",
      "  timeout connect 2s",
      "  timeout client 60s",
      "  timeout server 60s",
      // SSE: a stream stays open between events (the API sends a comment every SSE_HEARTBEAT_MS).
      "  timeout tunnel 1h",
      "  option redispatch",
      "  retries 2",
      // Only a connection that never opened is retried: a request already sent may have been served.
      "  retry-on conn-failure",
      "frontend actlab",
      `  bind ${host.ip}:${PORTS.lb}`,
      "  default_backend apis",
      "backend apis",
      "  balance roundrobin",
      "  option httpchk GET /readyz",
      "  http-check expect status 200",
      // A check must outlast a slow network: /readyz asks Postgres and Redis, several round trips
      // at 100 ms each way (with the default, the check's interval, both replicas went DOWN).
      "  timeout check 3s",
      "  default-server inter 1s fall 2 rise 2",
      ...apis.map((a) => `  server ${a.name} ${a.ip}:${PORTS.apiRelay} check`),
      "",
    ].join("\n"),
  );
  const p = reg.add(startIn(host, "haproxy", "haproxy", ["-db", "-f", cfg], {}, reg.logDir));
  await sleep(300);
  if (!p.alive()) throw new Error(`haproxy exited: ${p.raw.join("\n")}`);
  return p;
}

export interface AppSettings {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  apiKey: string;
}

export async function startApi(reg: Registry, host: Host, s: AppSettings): Promise<Proc> {
  const p = reg.add(
    startIn(
      host,
      `api-${host.name}-${randomBytes(2).toString("hex")}`,
      process.execPath,
      [API_MAIN],
      {
        DATABASE_URL: s.databaseUrl,
        REDIS_URL: s.redisUrl,
        QUEUE_PREFIX: s.prefix,
        HOST: "127.0.0.1",
        PORT: String(PORTS.api),
        ACTLAB_BOOTSTRAP_API_KEY: s.apiKey,
        DASHBOARD_DIR: "/nonexistent-dashboard",
        RATE_LIMIT_MAX: "1000000",
        AUTH_FAILURE_LIMIT: "1000000",
        SSE_HEARTBEAT_MS: "5000",
        LOG_LEVEL: "info",
      },
      reg.logDir,
    ),
  );
  await p.waitForLog((l) => /listening/i.test(l.msg), 90_000);
  return p;
}

/** Short lock and stall times (as the reliability scenarios that kill workers use), so takeovers take seconds. */
export const WORKER_TIMINGS = { ...FAST_WORKER_ENV, WORKER_LOCK_DURATION_MS: "3000", DB_TIMEOUT_MS: "2000" };

export async function startWorker(reg: Registry, host: Host, s: AppSettings, id: string): Promise<Proc> {
  const p = reg.add(
    startIn(
      host,
      `worker-${id}`,
      process.execPath,
      [WORKER_MAIN, "--device", "cpu"],
      {
        DATABASE_URL: s.databaseUrl,
        REDIS_URL: s.redisUrl,
        QUEUE_PREFIX: s.prefix,
        WORKER_ID: id,
        LOG_LEVEL: "info",
        ...WORKER_TIMINGS,
      },
      reg.logDir,
    ),
  );
  await p.waitForLog((l) => l.msg === "worker started", 90_000);
  return p;
}
