// Runs `prisma generate` after install. Prisma's CLI wants its schema engine binary even for
// `generate`, and downloads it on first use; where that download is impossible (offline
// machines), generate works with PRISMA_SCHEMA_ENGINE_BINARY pointing at any file, so we
// point it at a placeholder. `db:migrate` never needs the engine (see packages/db).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
if (!existsSync(`${root}/node_modules/prisma`)) process.exit(0);
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: "1", CHECKPOINT_DISABLE: "1" };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(import.meta.url);
const r = spawnSync("npx", ["--no-install", "prisma", "generate"], { cwd: root, env, stdio: "inherit" });
process.exit(r.status ?? 1);
