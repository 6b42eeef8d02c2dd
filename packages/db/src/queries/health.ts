import { sql } from "kysely";
import type { Db } from "../client.js";

/** Resolves when Postgres answers a trivial query through the pool (readiness). */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`SELECT 1`.execute(db.kysely);
}
