import { availableParallelism } from "node:os";
import { z } from "zod";

/**
 * Configuration of `npm start`, validated once. The API and the workers validate their own
 * variables again (each app has its own env.ts); this one decides what to launch.
 */
export const ZStartEnv = z.object({
  DATABASE_URL: z.string().url().default("postgresql://postgres@127.0.0.1:5432/actlab"),
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  WORKERS: z.coerce.number().int().min(0).max(64).default(availableParallelism()),
  GPU_WORKERS: z.coerce.number().int().min(0).max(16).default(0),
  ACTLAB_BOOTSTRAP_API_KEY: z.string().min(16, "must be at least 16 characters").optional(),
});
export type TStartEnv = z.infer<typeof ZStartEnv>;

export function parseEnvOrExit<T extends z.ZodType>(
  schema: T,
  source: NodeJS.ProcessEnv = process.env,
): z.infer<T> {
  const parsed = schema.safeParse(source);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const name = issue.path.join(".");
    console.error(`configuration error: ${name} ${JSON.stringify(source[name] ?? null)}: ${issue.message}`);
  }
  process.exit(1);
}
