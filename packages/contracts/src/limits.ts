/**
 * Hard limits of an experiment and of the API. Each one is enforced by the zod schemas (or by
 * the API for the per-tenant ones) and answered with a documented 4xx, never a crash.
 */
export const LIMITS = {
  maxEpochs: 1000,
  maxHiddenLayers: 10,
  maxUnits: 1024,
  maxVariants: 16,
  maxRepeats: 10,
  /** cells × variants × repeats (a sweep's cells are the cartesian product of its axes) */
  maxRunsPerExperiment: 2000,
  /** values of one sweep axis */
  maxSweepValues: 32,
  maxSamples: 70_000,
  minSamples: 20,
  maxBatchSize: 10_000,
  maxNameLength: 200,
  /** queued + running runs a tenant may have at once */
  maxActiveRunsPerTenant: 256,
  /** inputs per POST /runs/:id/predict */
  maxPredictBatch: 256,
  /** request body bytes */
  maxBodyBytes: 1_048_576,
} as const;
