/**
 * @actlab/trainer — TensorFlow.js training of one run: backend choice, datasets, activation
 * catalog, model builder, training loop with metric hooks, checkpoints and model artifacts.
 * No HTTP, Redis or Postgres in here: a run spec and callbacks in, metrics and an artifact out.
 */
export {
  type Activation,
  type ActivationParams,
  getActivation,
  makeActivationLayer,
  sampleActivation,
} from "./activations.js";
export { loadArtifactModel, predict, type TModelArtifact } from "./artifact.js";
export {
  activeBackend,
  type BackendDescription,
  type BackendName,
  describeBackend,
  initBackend,
  nativeBlasInfo,
} from "./backend.js";
export type { TrainCheckpoint } from "./checkpoint.js";
export {
  configureDatasets,
  type DatasetOptions,
  DEFAULT_FASHION_MNIST_DIR,
  type IdxFileKey,
  type LoadedDataset,
  listDatasets,
  loadDataset,
} from "./data/datasets.js";
export type { RemoteFile } from "./data/fetch.js";
export { encodeIdx, parseIdx } from "./data/idx.js";
export { shouldStopEarly } from "./early-stopping.js";
export {
  BackendUnavailableError,
  DatasetTooSmallError,
  DatasetUnavailableError,
  GpuUnavailableError,
  TrainingDivergedError,
} from "./errors.js";
export {
  DEFAULT_CHECKPOINT_INTERVAL_MS,
  PROBE_SIZE,
  SATURATION_EPSILON,
  type TrainResult,
  type TrainRunOptions,
  trainRun,
} from "./train.js";
