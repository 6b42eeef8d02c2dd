import { z } from "zod";

/*
 * The environment every actlab process reads the same way: the API, the workers, the CLI and
 * `npm start` list these variables in their own env.ts (each in the order its errors name them)
 * and parse with parseEnvWith, so a variable means one thing and is checked one way everywhere.
 * A subpath of its own (`@actlab/contracts/env`), beside the wire shapes but not among them:
 * the dashboard bundles the package's index and has no environment. `.env.example` lists
 * every variable of every process.
 */

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const ZBaseEnv = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
    .default("postgresql://postgres@127.0.0.1:5432/actlab"),
  /**
   * One Redis server (`redis://`, `rediss://`), or a Redis Cluster given by some of its nodes:
   * `redis+cluster://host:port,host:port` (`rediss+cluster://` for TLS); QUEUE_PREFIX must then
   * carry a hash tag (see clusterPrefixProblem).
   */
  REDIS_URL: z
    .string()
    .regex(
      /^rediss?(\+cluster)?:\/\//,
      "must be a redis:// or rediss:// URL, or redis+cluster://host:port,host:port for a Redis Cluster",
    )
    .default("redis://127.0.0.1:6379"),
  /**
   * Prefix of BullMQ keys, rate-limit counters and pub/sub channels: processes that work
   * together need the same one; tests and benchmarks use their own so they never touch real jobs.
   */
  QUEUE_PREFIX: z.string().min(1).default("actlab"),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
});
export type TBaseEnv = z.infer<typeof ZBaseEnv>;

/**
 * On a Redis Cluster, BullMQ's Lua scripts touch several keys of a queue at once, so those keys
 * must hash to one slot: BullMQ's docs require a prefix with a hash tag (`{actlab}`). Without
 * one every job would fail with CROSSSLOT. Null when the pair is fine.
 */
export function clusterPrefixProblem(redisUrl: string, prefix: string): string | null {
  if (!/^rediss?\+cluster:\/\//.test(redisUrl) || /\{[^}]+\}/.test(prefix)) return null;
  return `must contain a hash tag on a Redis Cluster (REDIS_URL is redis+cluster://), e.g. {${prefix.replace(/[{}]/g, "")}}: BullMQ keeps a queue's keys in one slot`;
}

/** A variable is missing or wrong; the message names each one. */
export class EnvError extends Error {
  override name = "EnvError";
}

/**
 * Parses an environment with an app's schema; throws EnvError whose message names each bad
 * variable (through `label`, for one that came from a command-line flag instead).
 */
export function parseEnvWith<T extends z.ZodType>(
  schema: T,
  env: Readonly<Record<string, string | undefined>>,
  { label = (name: string) => name }: { label?: (name: string) => string } = {},
): z.infer<T> {
  // Empty strings (VAR= in a .env file) mean "not set", so defaults apply.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(cleaned);
  const issues = parsed.success
    ? []
    : parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  // The one rule between two shared variables, checked here so every schema that lists both gets it.
  const data = (parsed.success ? parsed.data : {}) as Partial<TBaseEnv>;
  const problem =
    data.REDIS_URL !== undefined && data.QUEUE_PREFIX !== undefined
      ? clusterPrefixProblem(data.REDIS_URL, data.QUEUE_PREFIX)
      : null;
  if (problem) issues.push({ path: "QUEUE_PREFIX", message: problem });
  if (parsed.success && !issues.length) return parsed.data;
  const lines = issues.map((i) => `  ${label(i.path)}: ${i.message}`);
  throw new EnvError(`invalid environment:\n${lines.join("\n")}`);
}
