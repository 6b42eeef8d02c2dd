/** Thrown by initBackend({ device: "gpu" }) when @tensorflow/tfjs-node-gpu cannot be loaded. */
export class GpuUnavailableError extends Error {
  override readonly name = "GpuUnavailableError";
  readonly code = "GPU_UNAVAILABLE";
  constructor(detail: string) {
    super(
      `GPU training needs @tensorflow/tfjs-node-gpu (CUDA + cuDNN), which could not be loaded: ${detail}. ` +
        'Install it on a GPU machine (`npm install @tensorflow/tfjs-node-gpu`) or run the experiment with device "cpu".',
    );
  }
}

/** Thrown when a requested backend (`force`) is not available in this process. */
export class BackendUnavailableError extends Error {
  override readonly name = "BackendUnavailableError";
  readonly code = "BACKEND_UNAVAILABLE";
}

/** Thrown by loadDataset when the files of a dataset are absent; the message says how to get them. */
export class DatasetUnavailableError extends Error {
  override readonly name = "DatasetUnavailableError";
  readonly code = "DATASET_UNAVAILABLE";
  constructor(
    readonly dataset: string,
    readonly missing: string[],
    readonly howToGet: string,
  ) {
    super(`dataset "${dataset}" is not available: missing ${missing.join(", ")}. ${howToGet}`);
  }
}

/**
 * Thrown by trainRun when the loss or a gradient stops being a finite number (the weights
 * have diverged, e.g. raw 0–255 pixels with ReLU, or a learning rate far too high). Retrying
 * gives the same result: the run should fail with this message.
 */
export class TrainingDivergedError extends Error {
  override readonly name = "TrainingDivergedError";
  readonly code = "TRAINING_DIVERGED";
  constructor(
    readonly epoch: number,
    detail: string,
  ) {
    super(
      `training diverged in epoch ${epoch}: ${detail}. Try a lower learning rate, pixelScale "unit", or another initializer.`,
    );
  }
}
