import type { TEpochMetrics, TExperimentSpec, TVariant } from "@actlab/contracts";
import * as tf from "@tensorflow/tfjs";
import { getActivation } from "./activations.js";
import { exportModel, type TModelArtifact } from "./artifact.js";
import { activeBackend, type BackendName } from "./backend.js";
import { restoreCheckpoint, saveCheckpoint, type TrainCheckpoint } from "./checkpoint.js";
import { type LoadedDataset, loadDataset } from "./data/datasets.js";
import { shouldStopEarly } from "./early-stopping.js";
import { TrainingDivergedError } from "./errors.js";
import { buildNet, forward, type Net } from "./model.js";
import { mixSeed, SEED_PURPOSE, seededPermutation } from "./random.js";

export interface TrainRunOptions {
  spec: TExperimentSpec;
  variant: TVariant;
  /** The run seed (contracts' deriveRunSeed): initial weights, batch order, rrelu draws. */
  seed: number;
  resumeFrom?: TrainCheckpoint | null;
  /** Awaited before the next epoch starts. */
  onEpoch: (m: TEpochMetrics, checkpoint: TrainCheckpoint) => Promise<void>;
  /** Polled before every batch. */
  shouldStop?: () => "cancel" | "shutdown" | null;
  onBatch?: (info: { epoch: number; batch: number; batches: number }) => void;
  /** Else loadDataset(spec.dataset) with the process-wide dataset configuration. */
  dataset?: LoadedDataset;
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
/** A unit is saturated when |f′(z)| is below this for every probe example. */
export const SATURATION_EPSILON = 0.01;
const EVAL_CHUNK = 1000;

function currentBackend(): BackendName {
  const chosen = activeBackend();
  if (chosen) return chosen;
  const b = tf.getBackend();
  return b === "tensorflow" || b === "wasm" ? b : "cpu";
}

function makeOptimizer(o: TExperimentSpec["training"]["optimizer"]): tf.Optimizer {
  switch (o.name) {
    case "sgd":
      return tf.train.sgd(o.learningRate);
    case "momentum":
      return tf.train.momentum(o.learningRate, o.momentum);
    case "adam":
      return tf.train.adam(o.learningRate);
  }
}

const variableOf = (layer: tf.layers.Layer, i: number) => {
  const w = layer.trainableWeights[i];
  if (!w) throw new Error(`layer ${layer.name} has no weight ${i}`);
  return w.read() as tf.Variable;
};

/** Loss and correct count of a batch, in a form the training step and evaluation share. */
function lossAndCorrect(logits: tf.Tensor2D, labels: tf.Tensor1D, classes: number) {
  const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, classes), logits) as tf.Scalar;
  const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), "float32")) as tf.Scalar;
  return { loss, correct };
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

function evaluate(net: Net, x: Float32Array, y: Uint8Array, n: number, inputSize: number, classes: number) {
  let lossSum = 0;
  let correct = 0;
  for (let from = 0; from < n; from += EVAL_CHUNK) {
    const count = Math.min(EVAL_CHUNK, n - from);
    const [l, c] = tf.tidy(() => {
      const xs = tf.tensor2d(x.subarray(from * inputSize, (from + count) * inputSize), [count, inputSize]);
      const ys = tf.tensor1d(Int32Array.from(y.subarray(from, from + count)), "int32");
      const r = lossAndCorrect(forward(net, xs, { training: false }).logits, ys, classes);
      return [r.loss, r.correct];
    });
    lossSum += (l as tf.Scalar).dataSync()[0]! * count;
    correct += (c as tf.Scalar).dataSync()[0]!;
    tf.dispose([l, c]);
  }
  return { loss: lossSum / n, accuracy: correct / n };
}

/** Gradient norms, dead and saturated fractions and PReLU slopes on the probe batch. */
export function probeMetrics(net: Net, probeX: tf.Tensor2D, probeY: tf.Tensor1D, classes: number) {
  const kernels = net.dense.map((d) => variableOf(d, 0));
  const norms = tf.tidy(() => {
    const { grads } = tf.variableGrads(
      () => lossAndCorrect(forward(net, probeX, { training: false }).logits, probeY, classes).loss,
      kernels,
    );
    return tf.stack(kernels.map((k) => tf.norm(grads[k.name] as tf.Tensor)));
  });
  const gradNorms = Array.from(norms.dataSync());
  norms.dispose();

  const info = getActivation(net.variant.activation);
  const params = net.variant as unknown as Record<string, number>;
  const pre = tf.tidy(() => forward(net, probeX, { training: false, keepPre: true }).pre);
  const alphas = net.prelu.map((l) => (l.getWeights()[0] as tf.Tensor).dataSync() as Float32Array);
  const deadFraction: number[] = [];
  const saturatedFraction: number[] = [];
  pre.forEach((z, layer) => {
    const [rows, units] = z.shape;
    const v = z.dataSync();
    let dead = 0;
    let saturated = 0;
    const slopes = alphas[layer];
    for (let j = 0; j < units; j++) {
      let active = false;
      let allFlat = true;
      const q = slopes ? { alpha: slopes[j] as number } : params;
      for (let i = 0; i < rows; i++) {
        const zi = v[i * units + j] as number;
        if (zi > 0) active = true;
        if (allFlat && Math.abs(info.df(zi, q)) >= SATURATION_EPSILON) allFlat = false;
        if (active && !allFlat) break;
      }
      if (!active) dead++;
      if (allFlat) saturated++;
    }
    deadFraction.push(info.reluLike ? dead / units : 0);
    saturatedFraction.push(saturated / units);
  });
  tf.dispose(pre);
  const preluAlphaMean = net.prelu.length ? alphas.map((a) => a.reduce((s, x) => s + x, 0) / a.length) : null;
  return { gradNorms, deadFraction, saturatedFraction, preluAlphaMean };
}

/**
 * Trains one run. Pure apart from the callbacks: no network, no database. The model, the
 * optimizer and every tensor it makes are disposed before it returns.
 */
export async function trainRun(opts: TrainRunOptions): Promise<TrainResult> {
  const started = performance.now();
  const { spec, variant, seed } = opts;
  const backend = currentBackend();
  const data = opts.dataset ?? (await loadDataset(spec.dataset));
  const { inputSize, classes, nTrain } = data;
  const batchSize = Math.min(spec.training.batchSize, nTrain);
  const net = buildNet({ model: spec.model, variant, seed, inputSize, classes });
  const optimizerName = spec.training.optimizer.name;
  const optimizer = makeOptimizer(spec.training.optimizer);
  const trainable = net.model.trainableWeights.map((w) => w.read() as tf.Variable);

  const probeN = Math.min(PROBE_SIZE, nTrain);
  const probeX = tf.tensor2d(data.trainX.subarray(0, probeN * inputSize), [probeN, inputSize]);
  const probeY = tf.tensor1d(Int32Array.from(data.trainY.subarray(0, probeN)), "int32");

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
  try {
    if (opts.resumeFrom) {
      await restoreCheckpoint({ checkpoint: opts.resumeFrom, model: net.model, optimizer, optimizerName });
      epochsCompleted = opts.resumeFrom.epoch;
    }
    const batches = Math.ceil(nTrain / batchSize);
    const bx = new Float32Array(batchSize * inputSize);
    const by = new Int32Array(batchSize);

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
        gatherBatch(data, perm, from, count, bx, by);
        net.rrelu.forEach((layer, i) => {
          layer.stepSeed = mixSeed(seed, SEED_PURPOSE.rrelu, epoch, b, i);
        });
        const [loss, right] = tf.tidy(() => {
          const xs = tf.tensor2d(bx.subarray(0, count * inputSize), [count, inputSize]);
          const ys = tf.tensor1d(by.subarray(0, count), "int32");
          let c: tf.Scalar | null = null;
          const { value, grads } = tf.variableGrads(() => {
            const r = lossAndCorrect(forward(net, xs, { training: true }).logits, ys, classes);
            c = tf.keep(r.correct);
            return r.loss;
          }, trainable);
          optimizer.applyGradients(grads);
          return [value, c as unknown as tf.Scalar];
        });
        lossSum += (loss as tf.Scalar).dataSync()[0]! * count;
        correct += (right as tf.Scalar).dataSync()[0]!;
        tf.dispose([loss, right]);
        opts.onBatch?.({ epoch, batch: b + 1, batches });
      }
      net.rrelu.forEach((layer) => {
        layer.stepSeed = null;
      });
      if (outcome !== "completed") break;

      const test = evaluate(net, data.testX, data.testY, data.nTest, inputSize, classes);
      const probe = probeMetrics(net, probeX, probeY, classes);
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
      checkpoint = await saveCheckpoint({ epoch, seed, model: net.model, optimizer, optimizerName });
      checkpoint.state.testLosses = [...testLosses];
      epochsCompleted = epoch;
      const metrics: TEpochMetrics = {
        epoch,
        trainLoss,
        trainAccuracy: correct / nTrain,
        testLoss: test.loss,
        testAccuracy: test.accuracy,
        ...probe,
        seconds: (performance.now() - epochStart) / 1000,
      };
      await opts.onEpoch(metrics, checkpoint);
      if (shouldStopEarly(testLosses, spec.training.earlyStopping)) {
        stoppedEarly = epoch < spec.training.epochs;
        break;
      }
    }
    if (outcome === "completed") {
      last ??= evaluate(net, data.testX, data.testY, data.nTest, inputSize, classes);
      artifact = await exportModel(net.model);
    }
  } finally {
    tf.dispose([probeX, probeY]);
    optimizer.dispose();
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
