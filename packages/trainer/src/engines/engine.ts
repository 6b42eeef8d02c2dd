import type { TExperimentSpec } from "@actlab/contracts";
import type { TModelArtifact } from "../artifact.js";
import type { BackendName } from "../backend.js";
import type { TrainCheckpoint } from "../checkpoint.js";
import type { LoadedDataset } from "../data/datasets.js";
import type { Net } from "../model.js";

/** Probe metrics of one epoch (per-layer gradient norms, unit statistics, prelu slopes). */
export interface ProbeMetrics {
  gradNorms: number[];
  deadFraction: number[];
  saturatedFraction: number[];
  preluAlphaMean: number[] | null;
}

/**
 * What trainRun needs from an engine: one training step per batch, evaluation, the probe, and
 * the state in TF.js's checkpoint format. The TF.js engine (tfjs.ts) runs it all as tf ops; the
 * native engine (native.ts) runs it on OpenBLAS and hands weights back to the TF.js model for
 * checkpoints and the export, so TF.js stays the model of record.
 */
export interface RunEngine {
  readonly backend: BackendName;
  /** One step on `count` rows of (x, y); the epoch and batch seed rrelu's slopes. */
  trainBatch(
    x: Float32Array,
    y: Int32Array,
    count: number,
    at: { epoch: number; batch: number },
  ): {
    loss: number;
    correct: number;
  };
  /**
   * The same step on the training rows `rows` (indices into the training set, in batch order),
   * for an engine that builds the batch itself (native: from its sparse copy of the set). An
   * engine without it gets the rows gathered for trainBatch.
   */
  trainRows?(rows: Uint32Array, at: { epoch: number; batch: number }): { loss: number; correct: number };
  /** Inference-mode loss and accuracy on the test set. */
  evaluate(): { loss: number; accuracy: number };
  probe(): ProbeMetrics;
  checkpoint(epoch: number): Promise<TrainCheckpoint>;
  restore(checkpoint: TrainCheckpoint): Promise<void>;
  exportModel(): Promise<TModelArtifact>;
  dispose(): void;
}

export interface EngineContext {
  spec: TExperimentSpec;
  net: Net;
  seed: number;
  data: LoadedDataset;
  /** The probe batch: the first PROBE_SIZE training examples. */
  probeN: number;
}
