import { randomBytes } from "node:crypto";
import pg from "pg";
import { createDb, type Db, dropDatabase, ensureDatabase } from "../../packages/db/src/index.js";
import { isClusterUrl } from "../../packages/queue/src/index.js";
import { TEMPLATE_DB, TEST_PG_SERVER, TEST_REDIS_URL } from "./env.js";

export interface TestDatabase {
  url: string;
  db: Db;
  /** Disconnects and drops the database. */
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own for one test file (copied from the template). */
export async function createTestDatabase(label = "t"): Promise<TestDatabase> {
  const name = `actlab_${label.replace(/\W/g, "_").slice(0, 20)}_${randomBytes(4).toString("hex")}`;
  const url = `${TEST_PG_SERVER}/${name}`;
  await ensureDatabase(url, { template: TEMPLATE_DB });
  const db = createDb({ url, poolSize: 4 });
  return {
    url,
    db,
    async drop() {
      await db.close();
      await dropDatabase(url);
    },
  };
}

/**
 * A BullMQ key prefix of its own, so tests never see each other's queues; hash-tagged when the
 * tests run against a Redis Cluster (BullMQ needs a queue's keys in one slot).
 */
export function testPrefix(label = "t"): string {
  const prefix = `actlab-test-${label}-${randomBytes(4).toString("hex")}`;
  return isClusterUrl(TEST_REDIS_URL) ? `{${prefix}}` : prefix;
}

/**
 * Holds a session-level advisory lock on a connection of its own, as another process's
 * transaction would (the lock is released by `release`, or when the connection ends).
 */
export async function holdAdvisoryLock(url: string, namespace: number, key: number) {
  const session = new pg.Client({ connectionString: url });
  await session.connect();
  await session.query("SELECT pg_advisory_lock($1, $2)", [namespace, key]);
  let released = false;
  return {
    /** Unlocks and ends the session; calls after the first do nothing. */
    async release() {
      if (released) return;
      released = true;
      try {
        await session.query("SELECT pg_advisory_unlock($1, $2)", [namespace, key]);
      } finally {
        await session.end();
      }
    },
  };
}
