import { DEFAULT_MOMENTUM } from "@actlab/contracts";
import * as tf from "@tensorflow/tfjs";
import { exportModel } from "../artifact.js";
import type { BackendName } from "../backend.js";
import { restoreCheckpoint, saveCheckpoint } from "../checkpoint.js";
import { forward, type Net } from "../model.js";
import { mixSeed, SEED_PURPOSE } from "../random.js";
import type { EngineContext, ProbeMetrics, RunEngine } from "./engine.js";
import { unitStatistics } from "./probe.js";

const EVAL_CHUNK = 1000;

function makeOptimizer(o: EngineContext["spec"]["training"]["optimizer"]): tf.Optimizer {
  switch (o.name) {
    case "sgd":
      return tf.train.sgd(o.learningRate);
    case "momentum":
      return tf.train.momentum(o.learningRate, o.momentum ?? DEFAULT_MOMENTUM);
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

/** Gradient norms, dead and saturated fractions and PReLU slopes on the probe batch. */
export function probeMetrics(
  net: Net,
  probeX: tf.Tensor2D,
  probeY: tf.Tensor1D,
  classes: number,
): ProbeMetrics {
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
  const pre = tf.tidy(() => forward(net, probeX, { training: false, keepPre: true }).pre);
  const alphas = net.prelu.map((l) => (l.getWeights()[0] as tf.Tensor).dataSync() as Float32Array);
  const stats = unitStatistics(
    net,
    pre.map((z) => z.dataSync()),
    probeX.shape[0],
    alphas,
  );
  tf.dispose(pre);
  return { gradNorms, ...stats };
}

/** The TF.js engine: every step, evaluation and probe as tf ops on the active tf backend. */
export function createTfjsEngine(ctx: EngineContext, backend: BackendName): RunEngine {
  const { net, data, seed, spec } = ctx;
  const { inputSize, classes } = data;
  const optimizerName = spec.training.optimizer.name;
  const optimizer = makeOptimizer(spec.training.optimizer);
  const trainable = net.model.trainableWeights.map((w) => w.read() as tf.Variable);
  const probeX = tf.tensor2d(data.trainX.subarray(0, ctx.probeN * inputSize), [ctx.probeN, inputSize]);
  const probeY = tf.tensor1d(Int32Array.from(data.trainY.subarray(0, ctx.probeN)), "int32");

  return {
    backend,
    trainBatch(x, y, count, { epoch, batch }) {
      net.rrelu.forEach((layer, i) => {
        layer.stepSeed = mixSeed(seed, SEED_PURPOSE.rrelu, epoch, batch, i);
      });
      const [loss, right] = tf.tidy(() => {
        const xs = tf.tensor2d(x.subarray(0, count * inputSize), [count, inputSize]);
        const ys = tf.tensor1d(y.subarray(0, count), "int32");
        let c: tf.Scalar | null = null;
        const { value, grads } = tf.variableGrads(() => {
          const r = lossAndCorrect(forward(net, xs, { training: true }).logits, ys, classes);
          c = tf.keep(r.correct);
          return r.loss;
        }, trainable);
        optimizer.applyGradients(grads);
        return [value, c as unknown as tf.Scalar];
      });
      const out = {
        loss: (loss as tf.Scalar).dataSync()[0] as number,
        correct: (right as tf.Scalar).dataSync()[0] as number,
      };
      tf.dispose([loss, right]);
      for (const layer of net.rrelu) layer.stepSeed = null;
      return out;
    },
    evaluate() {
      const n = data.nTest;
      let lossSum = 0;
      let correct = 0;
      for (let from = 0; from < n; from += EVAL_CHUNK) {
        const count = Math.min(EVAL_CHUNK, n - from);
        const [l, c] = tf.tidy(() => {
          const xs = tf.tensor2d(data.testX.subarray(from * inputSize, (from + count) * inputSize), [
            count,
            inputSize,
          ]);
          const ys = tf.tensor1d(Int32Array.from(data.testY.subarray(from, from + count)), "int32");
          const r = lossAndCorrect(forward(net, xs, { training: false }).logits, ys, classes);
          return [r.loss, r.correct];
        });
        lossSum += ((l as tf.Scalar).dataSync()[0] as number) * count;
        correct += (c as tf.Scalar).dataSync()[0] as number;
        tf.dispose([l, c]);
      }
      return { loss: lossSum / n, accuracy: correct / n };
    },
    probe: () => probeMetrics(net, probeX, probeY, classes),
    checkpoint: (epoch) => saveCheckpoint({ epoch, seed, model: net.model, optimizer, optimizerName }),
    restore: (checkpoint) => restoreCheckpoint({ checkpoint, model: net.model, optimizer, optimizerName }),
    exportModel: () => exportModel(net.model),
    dispose() {
      tf.dispose([probeX, probeY]);
      optimizer.dispose();
    },
  };
}
