export { createDb, type Db } from "./client.js";
export { canReachPostgres, dropDatabase, ensureDatabase, parseDatabaseUrl, redactUrl } from "./database.js";
export type {
  ApiKey,
  Checkpoint,
  EpochMetric,
  Experiment,
  ExperimentEvent,
  ModelArtifact,
  Run,
  Tenant,
} from "./generated/prisma/client.js";
export type { LifecycleContext } from "./lifecycle/context.js";
export { type ContinueOutcome, continueExperiment, type RunRefusal } from "./lifecycle/continue.js";
export {
  type InsertOutcome,
  insertExperiment,
  type NewExperiment,
  type NewRun,
  planExperiment,
  TENANT_LOCK_NAMESPACE,
  tenantLockKey,
} from "./lifecycle/create.js";
export { emitEvent, eventsSince, recordEvent, type StoredEvent } from "./lifecycle/events.js";
export {
  refreshExperimentStatus,
  type StatusChange,
  settleExperiment,
} from "./lifecycle/experiment-status.js";
export { finishCanceled, finishFailed, finishSucceeded } from "./lifecycle/finish.js";
export {
  cancelRun,
  failRun,
  handBackRun,
  type LoadedRun,
  loadRun,
  pollRun,
  type RunArtifact,
  type RunCheckpoint,
  RunNotHeldError,
  requestCancel,
  requeueStaleRun,
  startRun,
  storeCheckpoint,
  storeEpoch,
  succeedRun,
} from "./lifecycle/runs.js";
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
export {
  type ApiKeyRow,
  findApiKeyByPrefix,
  insertApiKey,
  listApiKeys,
  revokeApiKeys,
  touchApiKey,
} from "./queries/api-keys.js";
export {
  deleteExperimentRows,
  type ExperimentListFilter,
  type ExperimentListRow,
  type ExperimentSort,
  type ExperimentView,
  findExperimentOfTenant,
  findExperimentStatus,
  findExperimentWithRuns,
  findOpenRuns,
  type ListPosition,
  listExperimentsPage,
} from "./queries/experiments.js";
export { pingDatabase } from "./queries/health.js";
export {
  type EpochMetricRow,
  findEpochsOfRun,
  findReportRows,
  findRunIds,
  findRunsToExport,
  findRunsWithEpochs,
} from "./queries/metrics.js";
export { findRecentRunPaces, type RunPaceRow } from "./queries/paces.js";
export {
  countRunsByStatus,
  findLatestGradNorms,
  findModelArtifact,
  findModelArtifactHash,
  findModelArtifactOfTenant,
  findQueuedRunsUntouchedSince,
  findRunningRunsToCheck,
  findRunOfTenant,
  findRunUpdatedAt,
  RUN_VIEW_COLUMNS,
  type RunView,
} from "./queries/runs.js";
export {
  type DeliveryRow,
  type DeliveryToSend,
  deleteWebhook,
  findDeliveryToSend,
  findPendingDeliveries,
  findWebhookOfTenant,
  type InsertWebhookOutcome,
  insertWebhook,
  listWebhookDeliveries,
  listWebhooks,
  recordDeliveryAttempt,
  type WebhookRow,
} from "./queries/webhooks.js";
