import { EnvError, parseEnvWith, ZBaseEnv } from "@actlab/contracts/env";
import { ZAllowedHosts } from "@actlab/webhooks";
import { z } from "zod";

export { EnvError };

const { DATABASE_URL, REDIS_URL, QUEUE_PREFIX, LOG_LEVEL } = ZBaseEnv.shape;
const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();

/**
 * Everything the API reads from its environment: the shared variables of `@actlab/contracts/env`
 * and its own. Parsed once at start (server.ts); tests build their own with `parseEnv({...})`.
 * Nothing else in the app reads process.env.
 */
export const ZEnv = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATABASE_URL,
  REDIS_URL,
  QUEUE_PREFIX,
  /** When set, tenant `default` gets this API key at start (idempotent). */
  ACTLAB_BOOTSTRAP_API_KEY: z
    .string()
    .min(16, "must be at least 16 characters (it is a secret; e.g. `openssl rand -hex 24`)")
    .max(256, "must be at most 256 characters")
    .regex(/^\S+$/, "must not contain spaces (it is sent as `Authorization: Bearer <key>`)")
    .optional(),
  LOG_LEVEL,
  /** Requests per key per RATE_LIMIT_WINDOW_MS (stored in Redis, shared by all API processes). */
  RATE_LIMIT_MAX: positiveInt.default(1200),
  RATE_LIMIT_WINDOW_MS: positiveInt.default(60_000),
  /**
   * Requests with an unknown or revoked key per client address (IPv6: per /64) per
   * AUTH_FAILURE_WINDOW_MS; past it, keys this process has not seen valid get 429 without a
   * Postgres lookup until the window ends (plugins/app/auth.ts).
   */
  AUTH_FAILURE_LIMIT: positiveInt.default(60),
  AUTH_FAILURE_WINDOW_MS: positiveInt.default(60_000),
  /** Trained models kept in memory for /predict (least recently used are dropped). */
  MODEL_CACHE_SIZE: positiveInt.default(16),
  /** SSE comment line interval, so proxies keep the connection open. */
  SSE_HEARTBEAT_MS: positiveInt.default(15_000),
  /**
   * A running run nothing has written for this long is shown as stale (`stale: true`): twice the
   * worker's default HEARTBEAT_MS, so one late heartbeat does not alarm anyone.
   */
  RUN_STALE_AFTER_MS: positiveInt.default(30_000),
  /** Built dashboard served at `/`; defaults to apps/dashboard/dist of this checkout. */
  DASHBOARD_DIR: z.string().min(1).optional(),
  /** Same as the worker's: where the `mnist-full` IDX files are (GET /datasets reports availability). */
  DATA_DIR: z.string().min(1).optional(),
  FASHION_MNIST_DIR: z.string().min(1).optional(),
  /** Postgres connections of this process. */
  DB_POOL_SIZE: positiveInt.max(200).default(10),
  /** Trust X-Forwarded-* (set when running behind a reverse proxy). */
  TRUST_PROXY: z
    .enum(["true", "false", "1", "0"])
    .default("false")
    .transform((v) => v === "true" || v === "1"),
  /**
   * Webhook targets allowed although private, loopback or link-local: comma-separated host names,
   * addresses or CIDR ranges (the workers, which deliver, read the same variable). The API refuses
   * a webhook whose URL is such an address literal unless it is allowed here.
   */
  WEBHOOK_ALLOWED_HOSTS: ZAllowedHosts,
});
export type TEnv = z.infer<typeof ZEnv>;

/** Parses an environment; throws EnvError whose message names each bad variable. */
export function parseEnv(env: Record<string, string | undefined>): TEnv {
  return parseEnvWith(ZEnv, env);
}
