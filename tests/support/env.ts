import { createHash } from "node:crypto";
import { readMigrations } from "../../packages/db/src/migrate.js";

/** Where the tests find Postgres and Redis (the same defaults as the apps). */
export const TEST_PG_SERVER = process.env.TEST_DATABASE_SERVER ?? "postgresql://postgres@127.0.0.1:5432";
export const TEST_REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * A migrated database every test database is copied from (CREATE DATABASE … TEMPLATE is fast).
 * Its name carries a digest of the migration files, so checkouts with different migrations
 * (branches side by side on one machine) each get their own template instead of rebuilding,
 * and dropping, one shared template under each other's running tests.
 */
const migrationsDigest = createHash("sha256")
  .update(
    readMigrations()
      .map((m) => `${m.name}:${m.checksum}`)
      .join("\n"),
  )
  .digest("hex")
  .slice(0, 12);
export const TEMPLATE_DB = `actlab_test_template_${migrationsDigest}`;
