import { createDb, type Db } from "@actlab/db";
import { EnvError, parseEnv, type TEnv } from "../env.js";

/** Prints the message and exits 1: how every operator command reports a mistake. */
export function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** The environment the API reads (DATABASE_URL, REDIS_URL, QUEUE_PREFIX, …), or a one-line failure. */
export function cliEnv(): TEnv {
  try {
    return parseEnv(process.env);
  } catch (err) {
    fail(err instanceof EnvError ? err.message : String(err));
  }
}

/** One connection is all a command needs; it fails in 5 s rather than hang when Postgres is down. */
export async function withCliDb<T>(env: TEnv, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = createDb({ url: env.DATABASE_URL, poolSize: 1, connectionTimeoutMillis: 5_000 });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
