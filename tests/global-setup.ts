import { applyMigrations, dropDatabase, ensureDatabase } from "../packages/db/src/index.js";
import { TEMPLATE_DB, TEST_PG_SERVER } from "./support/env.js";

/** Builds the migrated template database once per test run. */
export default async function setup(): Promise<void> {
  const url = `${TEST_PG_SERVER}/${TEMPLATE_DB}`;
  await dropDatabase(url);
  await ensureDatabase(url);
  await applyMigrations({ url });
}
