import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { configDir, type TCliEnv } from "./env.js";
import { UsageError } from "./output.js";

export const DEFAULT_API_URL = "http://127.0.0.1:3000";

const ZConfig = z.object({ apiUrl: z.url().optional(), apiKey: z.string().min(1).optional() });
export type TConfig = z.infer<typeof ZConfig>;

export const configFile = (env: TCliEnv) => join(configDir(env), "config.json");

export function readConfig(env: TCliEnv): TConfig {
  const file = configFile(env);
  if (!existsSync(file)) return {};
  const parsed = ZConfig.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) throw new UsageError(`${file} is not a valid actlab config; run actlab login again`);
  return parsed.data;
}

/**
 * Writes the config readable by its owner only: the file holds an API key. Written to a temporary
 * file with mode 0600 and renamed, so no moment exists where the key is readable by others or
 * half written; chmod because an existing directory's umask must not widen it.
 */
export function writeConfig(env: TCliEnv, config: TConfig): string {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = configFile(env);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return file;
}

export interface Connection {
  apiUrl: string;
  apiKey: string | null;
}

/** --api-url, then ACTLAB_API_URL, then the stored one; ACTLAB_API_KEY, then the stored key. */
export function resolveConnection(env: TCliEnv, apiUrlOption: string | undefined): Connection {
  const config = readConfig(env);
  const trim = (u: string) => u.replace(/\/+$/, "");
  const apiUrl = trim(apiUrlOption ?? env.ACTLAB_API_URL ?? config.apiUrl ?? DEFAULT_API_URL);
  // A stored key belongs to the API it was stored for; never send it to another one.
  const stored = !config.apiUrl || trim(config.apiUrl) === apiUrl ? config.apiKey : undefined;
  return { apiUrl, apiKey: env.ACTLAB_API_KEY ?? stored ?? null };
}
