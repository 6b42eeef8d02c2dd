import { applyMigrations, dropDatabase, ensureDatabase, MigrationError } from "../packages/db/src/index.js";
import { TEMPLATE_DB, TEST_PG_SERVER } from "./support/env.js";

/**
 * Makes sure the migrated template database exists (tests copy it). It is kept between runs
 * rather than rebuilt, so test runs started side by side never pull it from under each other;
 * it is rebuilt only when its migrations no longer match the files.
 */
export default async function setup(): Promise<void> {
  const url = `${TEST_PG_SERVER}/${TEMPLATE_DB}`;
  await ensureDatabase(url);
  try {
    await applyMigrations({ url });
  } catch (err) {
    if (!(err instanceof MigrationError)) throw err;
    await dropDatabase(url);
    await ensureDatabase(url);
    await applyMigrations({ url });
  }
}
