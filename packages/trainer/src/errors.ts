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
 * Thrown when a run asks for more samples than its dataset has on this machine. The API refuses
 * such a spec at submit (it knows the sizes from GET /v1/datasets); this is the worker's guard for
 * a spec stored by an older API or a worker with a smaller copy of the data. Retrying cannot help.
 */
export class DatasetTooSmallError extends Error {
  override readonly name = "DatasetTooSmallError";
  readonly code = "DATASET_TOO_SMALL";
  constructor(
    readonly dataset: string,
    readonly available: number,
    readonly requested: number,
  ) {
    super(
      `dataset "${dataset}" has ${available} samples on this worker; dataset.samples asks for ${requested}. ` +
        `Submit the experiment again with dataset.samples at most ${available}.`,
    );
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
