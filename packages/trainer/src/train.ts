import type { TEpochMetrics, TExperimentSpec, TVariant } from "@actlab/contracts";
import * as tf from "@tensorflow/tfjs";
import type { TModelArtifact } from "./artifact.js";
import { activeBackend, type BackendName } from "./backend.js";
import type { TrainCheckpoint } from "./checkpoint.js";
import { type LoadedDataset, loadDataset } from "./data/datasets.js";
import { shouldStopEarly } from "./early-stopping.js";
import type { RunEngine } from "./engines/engine.js";
import { createNativeEngine } from "./engines/native.js";
import { createTfjsEngine } from "./engines/tfjs.js";
import { TrainingDivergedError } from "./errors.js";
import { buildNet } from "./model.js";
import { mixSeed, SEED_PURPOSE, seededPermutation } from "./random.js";

export { SATURATION_EPSILON } from "./engines/probe.js";
export { probeMetrics } from "./engines/tfjs.js";

export interface TrainRunOptions {
  spec: TExperimentSpec;
  variant: TVariant;
  /** The run seed (contracts' deriveRunSeed): initial weights, batch order, rrelu draws. */
  seed: number;
  resumeFrom?: TrainCheckpoint | null;
  /**
   * Awaited before the next epoch starts; carries a checkpoint when one is due (every
   * `checkpointIntervalMs`, and at the last epoch), else null.
   */
  onEpoch: (m: TEpochMetrics, checkpoint: TrainCheckpoint | null) => Promise<void>;
  /**
   * Awaited when training stops (cancel, shutdown) after an epoch whose checkpoint was not
   * handed to onEpoch: the last completed epoch's state, so the stop loses no work.
   */
  onCheckpoint?: (checkpoint: TrainCheckpoint) => Promise<void>;
  /** Time between checkpoints (default DEFAULT_CHECKPOINT_INTERVAL_MS); 0: every epoch. */
  checkpointIntervalMs?: number;
  /** Polled before every batch. */
  shouldStop?: () => "cancel" | "shutdown" | null;
  onBatch?: (info: { epoch: number; batch: number; batches: number }) => void;
  /** Else loadDataset(spec.dataset) with the process-wide dataset configuration. */
  dataset?: LoadedDataset;
  /** The engine: `native`, or a TF.js backend's name (default: the backend initBackend chose). */
  backend?: BackendName;
}

export interface TrainResult {
  outcome: "completed" | "canceled" | "shutdown";
  epochsCompleted: number;
  /** Completed before `spec.training.epochs` because `spec.training.earlyStopping` said so. */
  stoppedEarly: boolean;
  testAccuracy: number | null;
  testLoss: number | null;
  seconds: number;
  backend: BackendName;
  artifact: TModelArtifact | null;
  /** The latest state: after a stop mid-epoch, the last completed epoch's. */
  checkpoint: TrainCheckpoint | null;
}

/** Probe batch for gradient norms and unit statistics: the first PROBE_SIZE training examples. */
export const PROBE_SIZE = 256;
/** The default time between checkpoints: at ~0.1 s an epoch, one per epoch would dominate. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5_000;

function currentBackend(): BackendName {
  const chosen = activeBackend();
  if (chosen) return chosen;
  const b = tf.getBackend();
  return b === "tensorflow" || b === "wasm" ? b : "cpu";
}

function gatherBatch(
  data: LoadedDataset,
  perm: Uint32Array,
  from: number,
  count: number,
  x: Float32Array,
  y: Int32Array,
) {
  const size = data.inputSize;
  for (let i = 0; i < count; i++) {
    const src = perm[from + i] as number;
    x.set(data.trainX.subarray(src * size, (src + 1) * size), i * size);
    y[i] = data.trainY[src] as number;
  }
}

/**
 * Trains one run. Pure apart from the callbacks: no network, no database. The model, the
 * optimizer and every tensor it makes are disposed before it returns.
 */
export async function trainRun(opts: TrainRunOptions): Promise<TrainResult> {
  const started = performance.now();
  const { spec, variant, seed } = opts;
  const backend = opts.backend ?? currentBackend();
  const data = opts.dataset ?? (await loadDataset(spec.dataset));
  const { inputSize, nTrain } = data;
  const batchSize = Math.min(spec.training.batchSize, nTrain);
  const net = buildNet({ model: spec.model, variant, seed, inputSize, classes: data.classes });
  const interval = opts.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;

  let checkpoint: TrainCheckpoint | null = opts.resumeFrom ?? null;
  let epochsCompleted = 0;
  let outcome: TrainResult["outcome"] = "completed";
  let stoppedEarly = false;
  // Every epoch's test loss so far, for early stopping; kept in the checkpoint so a resumed run
  // decides as one that never stopped.
  const resumedLosses = opts.resumeFrom?.state.testLosses;
  const testLosses: number[] = Array.isArray(resumedLosses) ? resumedLosses.map(Number) : [];
  let last: { loss: number; accuracy: number } | null = null;
  let artifact: TModelArtifact | null = null;
  let engine: RunEngine | null = null;
  try {
    const ctx = { spec, net, seed, data, probeN: Math.min(PROBE_SIZE, nTrain) };
    engine = backend === "native" ? createNativeEngine(ctx) : createTfjsEngine(ctx, backend);
    if (opts.resumeFrom) {
      await engine.restore(opts.resumeFrom);
      epochsCompleted = opts.resumeFrom.epoch;
    }
    const batches = Math.ceil(nTrain / batchSize);
    const bx = new Float32Array(batchSize * inputSize);
    const by = new Int32Array(batchSize);
    let lastCheckpointAt = performance.now();
    // Whether `checkpoint` (the last completed epoch's state) has been handed out to be stored.
    let stored = true;

    for (let epoch = epochsCompleted + 1; epoch <= spec.training.epochs; epoch++) {
      const epochStart = performance.now();
      const perm = seededPermutation(nTrain, mixSeed(seed, SEED_PURPOSE.shuffle, epoch));
      let lossSum = 0;
      let correct = 0;
      for (let b = 0; b < batches; b++) {
        const stop = opts.shouldStop?.() ?? null;
        if (stop) {
          outcome = stop === "cancel" ? "canceled" : "shutdown";
          break;
        }
        const from = b * batchSize;
        const count = Math.min(batchSize, nTrain - from);
        const at = { epoch, batch: b };
        let r: { loss: number; correct: number };
        if (engine.trainRows) {
          r = engine.trainRows(perm.subarray(from, from + count), at);
        } else {
          gatherBatch(data, perm, from, count, bx, by);
          r = engine.trainBatch(bx, by, count, at);
        }
        lossSum += r.loss * count;
        correct += r.correct;
        opts.onBatch?.({ epoch, batch: b + 1, batches });
      }
      if (outcome !== "completed") break;

      const test = engine.evaluate();
      const probe = engine.probe();
      const trainLoss = lossSum / nTrain;
      if (
        !Number.isFinite(trainLoss) ||
        !Number.isFinite(test.loss) ||
        !probe.gradNorms.every(Number.isFinite)
      ) {
        throw new TrainingDivergedError(
          epoch,
          `train loss ${trainLoss}, test loss ${test.loss}, gradient norms ${probe.gradNorms.join(", ")}`,
        );
      }
      last = test;
      testLosses.push(test.loss);
      checkpoint = await engine.checkpoint(epoch);
      checkpoint.state.testLosses = [...testLosses];
      epochsCompleted = epoch;
      // Checked after each epoch's evaluation; the stopping epoch is the last, so its checkpoint is due.
      stoppedEarly = epoch < spec.training.epochs && shouldStopEarly(testLosses, spec.training.earlyStopping);
      const due =
        epoch === spec.training.epochs || stoppedEarly || performance.now() - lastCheckpointAt >= interval;
      if (due) lastCheckpointAt = performance.now();
      stored = due;
      const metrics: TEpochMetrics = {
        epoch,
        trainLoss,
        trainAccuracy: correct / nTrain,
        testLoss: test.loss,
        testAccuracy: test.accuracy,
        ...probe,
        seconds: (performance.now() - epochStart) / 1000,
      };
      await opts.onEpoch(metrics, due ? checkpoint : null);
      if (stoppedEarly) break;
    }
    if (outcome !== "completed" && !stored && checkpoint) await opts.onCheckpoint?.(checkpoint);
    if (outcome === "completed") {
      last ??= engine.evaluate();
      artifact = await engine.exportModel();
    }
  } finally {
    engine?.dispose();
    net.model.dispose();
  }
  return {
    outcome,
    epochsCompleted,
    stoppedEarly,
    testAccuracy: last?.accuracy ?? null,
    testLoss: last?.loss ?? null,
    seconds: (performance.now() - started) / 1000,
    backend,
    artifact,
    checkpoint,
  };
}
