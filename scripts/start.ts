// `npm start`: Postgres and Redis checked (local ones started), database created and migrated,
// whatever is not built gets built, then the API and WORKERS worker processes run together.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ensureDatabase, migrate, redactUrl } from "../packages/db/src/index.js";
import { loadDotEnv, parseEnvOrExit, ZStartEnv } from "./lib/env.js";
import { ensureServices } from "./lib/services.js";
import { Supervisor } from "./lib/supervisor.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const say = (line: string) => console.log(`[start] ${line}`);
if (loadDotEnv()) say("read .env");
const env = parseEnvOrExit(ZStartEnv);

function run(command: string, args: string[]): void {
  const r = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`[start] ${command} ${args.join(" ")} failed`);
    process.exit(1);
  }
}

try {
  await ensureServices({ databaseUrl: env.DATABASE_URL, redisUrl: env.REDIS_URL, start: true });
} catch (err) {
  console.error(`[start] cannot start:\n${(err as Error).message}`);
  process.exit(1);
}
if (await ensureDatabase(env.DATABASE_URL)) say(`created database ${redactUrl(env.DATABASE_URL)}`);
const migrated = await migrate({ url: env.DATABASE_URL, log: say });
say(`database ${redactUrl(env.DATABASE_URL)} is migrated (${migrated.applied.length} applied now)`);

say("building (incremental)…");
run("npx", ["tsc", "-b"]);
if (!existsSync(`${root}/apps/dashboard/dist/index.html`))
  run("npm", ["run", "build", "-w", "@actlab/dashboard"]);

const supervisor = new Supervisor();
const childEnv = { DATABASE_URL: env.DATABASE_URL, REDIS_URL: env.REDIS_URL, PORT: String(env.PORT) };
supervisor.start({
  name: "api",
  command: process.execPath,
  args: [`${root}/apps/api/dist/server.js`],
  env: childEnv,
});
for (let i = 1; i <= env.WORKERS; i++) {
  supervisor.start({
    name: `worker-${i}`,
    command: process.execPath,
    args: [`${root}/apps/worker/dist/main.js`, "--device", "cpu"],
    env: { ...childEnv, WORKER_NAME: `worker-${i}` },
  });
}
for (let i = 1; i <= env.GPU_WORKERS; i++) {
  supervisor.start({
    name: `gpu-worker-${i}`,
    command: process.execPath,
    args: [`${root}/apps/worker/dist/main.js`, "--device", "gpu"],
    env: { ...childEnv, WORKER_NAME: `gpu-worker-${i}` },
  });
}
say(
  `API on http://127.0.0.1:${env.PORT} (dashboard at /, docs at /docs), ${env.WORKERS} CPU worker(s); Ctrl-C stops`,
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping ${supervisor.running.join(", ")}…`);
    await supervisor.stop();
    say("stopped");
    process.exit(0);
  });
}
