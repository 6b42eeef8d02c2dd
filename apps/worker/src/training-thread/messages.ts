import type { TEpochMetrics, TExperimentSpec, TVariant } from "@actlab/contracts";
import type { BackendDescription, BackendName, TrainCheckpoint, TrainResult } from "@actlab/trainer";

/**
 * Messages between the worker's main thread and its training thread. Training is CPU-bound;
 * in its own thread it cannot starve the main event loop that renews BullMQ's job lock, reads
 * cancel signals and writes results.
 */

/** Values of the shared stop flag (Int32Array over a SharedArrayBuffer, read between batches). */
export const STOP = { none: 0, cancel: 1, shutdown: 2 } as const;

/**
 * Slots of the run's shared Int32Array: the stop flag, and the number of batches the training
 * thread has trained in this attempt (written by the thread after each batch). The main thread
 * reads the counter when it raises the flag, so how far training went past a signal is counted
 * in the training thread itself, not in progress messages that trail it.
 */
export const SHARED = { stop: 0, batches: 1, length: 2 } as const;

export interface InitMessage {
  type: "init";
  device: "cpu" | "gpu";
  force?: BackendName;
  nativeAddonPath?: string;
  datasets: { mnistFullDir?: string; fashionMnistDir?: string };
}

/** What one training attempt of a run is: the main thread's request, and the message carrying it. */
export interface TrainAttempt {
  runId: string;
  spec: TExperimentSpec;
  variant: TVariant;
  seed: number;
  resumeFrom: TrainCheckpoint | null;
  checkpointIntervalMs: number;
}

export interface TrainMessage extends TrainAttempt {
  type: "train";
  /** SHARED's slots. */
  shared: SharedArrayBuffer;
}

/**
 * Reply to an `epoch` or `checkpoint` message once it is stored; `error` makes the thread abort
 * the run. Epochs without a checkpoint are not waited for one by one: the thread trains on while
 * the main thread stores them in order, and waits for every ack before a checkpoint and at the end.
 */
export interface EpochAckMessage {
  type: "epoch-ack";
  runId: string;
  seq: number;
  error?: string;
}

export type ToThread = InitMessage | TrainMessage | EpochAckMessage;

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

export type FromThread =
  | {
      type: "ready";
      backend: BackendName;
      /** Better backends passed over, and why (logged once by the main thread). */
      fallbacks: { backend: BackendName; reason: string }[];
      blas: { corename: string; threads: number; ignoredEnv: string } | null;
      /** The engine with its versions, for each run's provenance. */
      engine: BackendDescription;
    }
  | { type: "init-failed"; error: SerializedError }
  | { type: "epoch"; runId: string; seq: number; metrics: TEpochMetrics; checkpoint: TrainCheckpoint | null }
  | { type: "checkpoint"; runId: string; seq: number; checkpoint: TrainCheckpoint }
  | { type: "batch"; runId: string; epoch: number; batch: number; batches: number }
  | { type: "done"; runId: string; result: ThreadTrainResult }
  | { type: "failed"; runId: string; error: SerializedError };

/** What the thread sends back: the trainer's result without its checkpoint (stored as it goes), plus the batch count. */
export type ThreadTrainResult = Omit<TrainResult, "checkpoint"> & {
  /** Batches trained in this attempt (SHARED.batches at the stop). */
  batchesTrained: number;
};

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message,
      ...(typeof code === "string" ? { code } : {}),
      ...(err.stack ? { stack: err.stack } : {}),
    };
  }
  return { name: "Error", message: String(err) };
}
