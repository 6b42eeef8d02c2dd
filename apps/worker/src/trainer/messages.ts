import type { TEpochMetrics, TExperimentSpec, TVariant } from "@actlab/contracts";
import type { BackendName, TModelArtifact, TrainCheckpoint } from "@actlab/trainer";

/**
 * Messages between the worker's main thread and its training thread. Training is CPU-bound;
 * in its own thread it cannot starve the main event loop that renews BullMQ's job lock, reads
 * cancel signals and writes results.
 */

/** Values of the shared stop flag (Int32Array over a SharedArrayBuffer, read between batches). */
export const STOP = { none: 0, cancel: 1, shutdown: 2 } as const;

export interface InitMessage {
  type: "init";
  device: "cpu" | "gpu";
  force?: BackendName;
  datasets: { mnistFullDir?: string; fashionMnistDir?: string };
}

export interface TrainMessage {
  type: "train";
  runId: string;
  spec: TExperimentSpec;
  variant: TVariant;
  seed: number;
  resumeFrom: TrainCheckpoint | null;
  stopFlag: SharedArrayBuffer;
}

/** Reply to an `epoch` message once it is stored; `error` makes the thread abort the run. */
export interface EpochAckMessage {
  type: "epoch-ack";
  runId: string;
  epoch: number;
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
  | { type: "ready"; backend: BackendName }
  | { type: "init-failed"; error: SerializedError }
  | { type: "epoch"; runId: string; metrics: TEpochMetrics; checkpoint: TrainCheckpoint }
  | { type: "batch"; runId: string; epoch: number; batch: number; batches: number }
  | { type: "done"; runId: string; result: ThreadTrainResult }
  | { type: "failed"; runId: string; error: SerializedError };

export interface ThreadTrainResult {
  outcome: "completed" | "canceled" | "shutdown";
  epochsCompleted: number;
  stoppedEarly: boolean;
  testAccuracy: number | null;
  testLoss: number | null;
  seconds: number;
  backend: BackendName;
  artifact: TModelArtifact | null;
}

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
