export { createDb, type Db } from "./client.js";
export { canReachPostgres, dropDatabase, ensureDatabase, parseDatabaseUrl, redactUrl } from "./database.js";
export { eventsSince, recordEvent, type StoredEvent } from "./events.js";
export { refreshExperimentStatus, type StatusChange } from "./experiment-status.js";
export {
  type ApiKey,
  type Checkpoint,
  type EpochMetric,
  type Experiment,
  type ExperimentEvent,
  type ModelArtifact,
  Prisma,
  type Run,
  type Tenant,
} from "./generated/prisma/client.js";
export {
  applyMigrations,
  findSchemaEngine,
  MIGRATIONS_DIR,
  type MigrateResult,
  MigrationError,
  migrate,
  migrationChecksum,
  readMigrations,
} from "./migrate.js";
