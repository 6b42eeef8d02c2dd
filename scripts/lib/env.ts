import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { ZEnv as ZApiEnv } from "../../apps/api/src/env.js";
import { EnvError, parseEnvWith, ZBaseEnv } from "../../packages/contracts/src/env.js";

/**
 * Configuration of `npm start`, validated once. The API and the workers validate their own
 * variables again (each app has its own env.ts); this one decides what to launch. The shared
 * variables and the bootstrap key are checked exactly as the apps check them.
 */
export const ZStartEnv = ZBaseEnv.pick({ DATABASE_URL: true, REDIS_URL: true }).extend({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  WORKERS: z.coerce.number().int().min(0).max(64).default(availableParallelism()),
  GPU_WORKERS: z.coerce.number().int().min(0).max(16).default(0),
  ACTLAB_BOOTSTRAP_API_KEY: ZApiEnv.shape.ACTLAB_BOOTSTRAP_API_KEY,
});
export type TStartEnv = z.infer<typeof ZStartEnv>;

const DOT_ENV = fileURLToPath(new URL("../../.env", import.meta.url));

/**
 * Reads the checkout's `.env` (see `.env.example`) into this process's environment, so that
 * `npm start` and the processes it launches see it; variables already set win over the file.
 */
export function loadDotEnv(path = DOT_ENV): boolean {
  if (!existsSync(path)) return false;
  process.loadEnvFile(path);
  return true;
}

export function parseEnvOrExit<T extends z.ZodType>(
  schema: T,
  source: NodeJS.ProcessEnv = process.env,
): z.infer<T> {
  try {
    return parseEnvWith(schema, source);
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    console.error(`configuration error: ${err.message}`);
    process.exit(1);
  }
}
