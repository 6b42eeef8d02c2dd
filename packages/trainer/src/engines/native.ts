import { activationDef, DEFAULT_MOMENTUM } from "@actlab/contracts";
import { NativeEngine } from "@actlab/native";
import * as tf from "@tensorflow/tfjs";
import { exportModel } from "../artifact.js";
import {
  CHECKPOINT_FORMAT,
  type CheckpointState,
  checkpointFloats,
  checkpointState,
  SHUFFLE_NOTE,
  type TensorEntry,
  type TrainCheckpoint,
} from "../checkpoint.js";
import { mixSeed, SEED_PURPOSE } from "../random.js";
import type { EngineContext, RunEngine } from "./engine.js";
import { unitStatistics } from "./probe.js";

/** tf.train.adam's defaults, which the engine must use to agree with it (ε: float32 backends' epsilon). */
const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
/**
 * Rows per evaluation call: the engine evaluates in chunks of its maxRows (the largest of the
 * batch, the probe batch and this). Small chunks leave more input columns zero in every row, so
 * the first layer runs compacted (bench:train: ~1.5 ms less per epoch than chunks of 1,000).
 */
const EVAL_CHUNK = 256;

/** The fraction of `x`'s entries that are not zero. */
function nonzeroFraction(x: Float32Array): number {
  let n = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== 0) n++;
  return x.length ? n / x.length : 0;
}

/** The activation's parameters as the engine takes them (p0, p1). */
function activationParams(variant: EngineContext["net"]["variant"]): { p0: number; p1: number } {
  switch (variant.activation) {
    case "leaky_relu":
    case "elu":
      return { p0: variant.alpha, p1: 0 };
    case "prelu":
      return { p0: variant.alphaInit, p1: 0 };
    case "rrelu":
      return { p0: variant.lower, p1: variant.upper };
    default:
      return { p0: 0, p1: 0 };
  }
}

/**
 * The native engine for one run. The network is built and initialised by TF.js (same seeds as
 * the TF.js engine); its weights are copied into the engine at the start and back into the
 * TF.js model for the export. Checkpoints have TF.js's format (model weights then optimizer
 * slots, named as tf.train names them), so a run can resume on either engine.
 */
export function createNativeEngine(ctx: EngineContext): RunEngine {
  const { net, data, seed, spec } = ctx;
  const { inputSize, classes } = data;
  const opt = spec.training.optimizer;
  const variables = net.model.trainableWeights.map((w) => w.read() as tf.Variable);
  const engine = new NativeEngine({
    inputSize,
    units: spec.model.units,
    hiddenLayers: spec.model.hiddenLayers,
    classes,
    maxRows: Math.max(
      Math.min(spec.training.batchSize, data.nTrain),
      ctx.probeN,
      Math.min(EVAL_CHUNK, data.nTest),
      1,
    ),
    activationId: activationDef(net.variant.activation).nativeId,
    ...activationParams(net.variant),
    optimizer: opt.name,
    learningRate: opt.learningRate,
    momentum: opt.momentum ?? DEFAULT_MOMENTUM,
    ...ADAM,
  });

  // Where each TF.js weight sits in the engine's parameters (the same order, checked here).
  const offsets: number[] = [];
  let total = 0;
  for (const v of variables) {
    offsets.push(total);
    total += v.size;
  }
  if (total !== engine.paramFloats) {
    engine.dispose();
    throw new Error(`native engine holds ${engine.paramFloats} parameters, the TF.js model ${total}`);
  }
  const preluIndex = net.prelu.map((layer) =>
    variables.indexOf(layer.trainableWeights[0]?.read() as tf.Variable),
  );

  const state = new Float32Array(engine.stateFloats);
  variables.forEach((v, i) => {
    state.set(v.dataSync() as Float32Array, offsets[i]);
  });
  engine.setState(state, { iterations: 0, accBeta1: ADAM.beta1, accBeta2: ADAM.beta2 });

  const slotNames: string[] =
    opt.name === "sgd"
      ? []
      : opt.name === "momentum"
        ? variables.map((v) => `${v.name}/momentum`)
        : [...variables.map((v) => `${v.name}/m`), ...variables.map((v) => `${v.name}/v`)];
  const slotEntries: TensorEntry[] = slotNames.map((name, i) => ({
    name,
    shape: (variables[i % variables.length] as tf.Variable).shape,
  }));
  const modelEntries: TensorEntry[] = net.model.weights.map((w) => ({
    name: w.originalName,
    shape: w.shape as number[],
  }));

  const trainY = Int32Array.from(data.trainY);
  const testY = Int32Array.from(data.testY);
  const probeX = data.trainX.subarray(0, ctx.probeN * inputSize);
  const probeY = trainY.subarray(0, ctx.probeN);
  const seeds = net.rrelu.length ? new Uint32Array(net.rrelu.length) : null;
  /** rrelu's seeds for one step (null for other activations). */
  const stepSeeds = (epoch: number, batch: number) => {
    if (seeds)
      for (let i = 0; i < seeds.length; i++) seeds[i] = mixSeed(seed, SEED_PURPOSE.rrelu, epoch, batch, i);
    return seeds;
  };
  // The engine builds batches from its own sparse copy of the training set (trainRows) when at
  // most half the inputs are nonzero (MNIST: a fifth): then the copy is smaller than the dense set
  // and a batch reads only its rows' nonzeros. Denser data is gathered for trainBatch as before.
  const trainX = data.trainX.subarray(0, data.nTrain * inputSize);
  const sparse = nonzeroFraction(trainX) <= 0.5 && inputSize <= 65_535;
  if (sparse) engine.setData(trainX, trainY, data.nTrain);

  return {
    backend: "native",
    trainBatch(x, y, count, { epoch, batch }) {
      return engine.trainBatch(
        x.subarray(0, count * inputSize),
        y.subarray(0, count),
        count,
        stepSeeds(epoch, batch),
      );
    },
    ...(sparse
      ? {
          trainRows: (rows: Uint32Array, { epoch, batch }: { epoch: number; batch: number }) =>
            engine.trainRows(rows, stepSeeds(epoch, batch)),
        }
      : {}),
    evaluate() {
      const { lossSum, correct } = engine.evaluate(
        data.testX.subarray(0, data.nTest * inputSize),
        testY,
        data.nTest,
      );
      return { loss: lossSum / data.nTest, accuracy: correct / data.nTest };
    },
    probe() {
      const { gradNorms, pre } = engine.probe(probeX, probeY, ctx.probeN);
      const params = engine.getState(state).state;
      const alphas = preluIndex.map((i) =>
        params.subarray(offsets[i], (offsets[i] as number) + spec.model.units),
      );
      return { gradNorms, ...unitStatistics(net, pre, ctx.probeN, alphas) };
    },
    async checkpoint(epoch) {
      const { state: floats, scalars } = engine.getState();
      const checkpointStateJson: CheckpointState = {
        format: CHECKPOINT_FORMAT,
        epoch,
        seed,
        model: modelEntries,
        optimizer: {
          name: opt.name,
          iterations: scalars.iterations,
          slots: slotEntries,
          scalars: opt.name === "adam" ? { accBeta1: scalars.accBeta1, accBeta2: scalars.accBeta2 } : {},
        },
        shuffle: SHUFFLE_NOTE,
      };
      return {
        epoch,
        weights: new Uint8Array(floats.buffer),
        state: checkpointStateJson as unknown as Record<string, unknown>,
      } satisfies TrainCheckpoint;
    },
    async restore(checkpoint) {
      const s = checkpointState(checkpoint, opt.name);
      const floats = checkpointFloats(checkpoint);
      const fits =
        s.model.length === modelEntries.length &&
        s.model.every((e, i) => e.shape.join() === modelEntries[i]?.shape.join()) &&
        s.optimizer.slots.length === slotEntries.length &&
        floats.length === engine.stateFloats;
      if (!fits) throw new Error("checkpoint does not fit this network (different layers or shapes)");
      const iterations = s.optimizer.iterations;
      engine.setState(floats, {
        iterations,
        accBeta1: s.optimizer.scalars?.accBeta1 ?? ADAM.beta1 ** (iterations + 1),
        accBeta2: s.optimizer.scalars?.accBeta2 ?? ADAM.beta2 ** (iterations + 1),
      });
    },
    async exportModel() {
      const params = engine.getState(state).state;
      const tensors = variables.map((v, i) =>
        tf.tensor(params.subarray(offsets[i], (offsets[i] as number) + v.size), v.shape),
      );
      net.model.setWeights(tensors);
      tf.dispose(tensors);
      return exportModel(net.model);
    },
    dispose: () => engine.dispose(),
  };
}
