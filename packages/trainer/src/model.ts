import type { TExperimentSpec, TVariant } from "@actlab/contracts";
import * as tf from "@tensorflow/tfjs";
import { makeActivationLayer } from "./activations.js";
import { RReLU } from "./layers.js";
import { mixSeed, SEED_PURPOSE } from "./random.js";

/**
 * The network of a run: `hiddenLayers` × (Dense → activation layer), then Dense → softmax.
 * Dense layers are linear and the activation is its own layer, so the training loop sees the
 * pre-activations (for dead/saturated fractions) and the activation's gradient is exactly the
 * layer the catalog test checks.
 */
export interface Net {
  model: tf.Sequential;
  /** Hidden Dense layers then the output Dense layer. */
  dense: tf.layers.Layer[];
  /** One activation layer per hidden Dense layer. */
  activations: tf.layers.Layer[];
  rrelu: RReLU[];
  prelu: tf.layers.Layer[];
  variant: TVariant;
}

/** The output layer's index in its initializer seed: beyond any hidden layer's. */
const OUTPUT_SEED_INDEX = 1_000;

/** Standard deviation of a unit normal truncated at ±2σ. */
const TRUNCATED_STD = 0.87962566103423978;

export function makeInitializer(init: TExperimentSpec["model"]["initializer"], seed: number, fanIn: number) {
  switch (init.name) {
    case "glorot_uniform":
      return tf.initializers.glorotUniform({ seed });
    case "he_normal":
      // Keras's he_normal: a normal truncated at ±2σ, widened so the weights' standard
      // deviation is √(2/fan_in). (tf.initializers.heNormal omits the widening and ends up
      // 12% narrower.)
      return tf.initializers.truncatedNormal({ mean: 0, stddev: Math.sqrt(2 / fanIn) / TRUNCATED_STD, seed });
    case "truncated_normal":
      return tf.initializers.truncatedNormal({ mean: 0, stddev: init.stddev, seed });
  }
}

export function buildNet(opts: {
  model: TExperimentSpec["model"];
  variant: TVariant;
  seed: number;
  inputSize: number;
  classes: number;
}): Net {
  const { model: spec, variant, seed, inputSize, classes } = opts;
  const model = tf.sequential();
  const dense: tf.layers.Layer[] = [];
  const activations: tf.layers.Layer[] = [];
  for (let i = 0; i <= spec.hiddenLayers; i++) {
    const last = i === spec.hiddenLayers;
    // Seeds depend on the run seed and the layer only, never on the activation or the depth:
    // variants of the same repeat start from the same weights, and so do the layers of a depth
    // sweep's cells wherever the shapes agree (hidden layer i, and the output layer, which has
    // its own index rather than hiddenLayers).
    const layer = tf.layers.dense({
      units: last ? classes : spec.units,
      activation: "linear",
      kernelInitializer: makeInitializer(
        spec.initializer,
        mixSeed(seed, SEED_PURPOSE.init, last ? OUTPUT_SEED_INDEX : i),
        i === 0 ? inputSize : spec.units,
      ),
      biasInitializer: "zeros",
      name: last ? "output" : `hidden${i + 1}`,
      ...(i === 0 ? { inputShape: [inputSize] } : {}),
    });
    model.add(layer);
    dense.push(layer);
    if (!last) {
      const act = makeActivationLayer(variant, `hidden${i + 1}_${variant.activation}`);
      model.add(act);
      activations.push(act);
    }
  }
  model.add(tf.layers.softmax({ name: "softmax" }));
  return {
    model,
    dense,
    activations,
    rrelu: activations.filter((a): a is RReLU => a instanceof RReLU),
    prelu: variant.activation === "prelu" ? activations : [],
    variant,
  };
}

/**
 * The first Dense layer as a plain matMul + bias instead of the layer's fused op: the fused
 * op's gradient always computes the gradient for its input too, which for the first layer is
 * the data — a full 100×200·200×784 product per step thrown away. The plain ops' gradients
 * are only evaluated for what needs them. Same weights, same result up to float rounding.
 */
function firstLayer(dense: tf.layers.Layer, x: tf.Tensor): tf.Tensor2D {
  const [kernel, bias] = dense.trainableWeights.map((w) => w.read());
  return tf.add(tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D), bias as tf.Tensor1D);
}

/**
 * Forward pass up to the logits (the softmax is folded into the loss), optionally keeping each
 * hidden layer's pre-activation. Call inside a tidy or a gradient function.
 */
export function forward(
  net: Net,
  x: tf.Tensor,
  opts: { training: boolean; keepPre?: boolean },
): { logits: tf.Tensor2D; pre: tf.Tensor2D[] } {
  let h = x;
  const pre: tf.Tensor2D[] = [];
  net.activations.forEach((act, i) => {
    const z =
      i === 0
        ? firstLayer(net.dense[0] as tf.layers.Layer, x)
        : ((net.dense[i] as tf.layers.Layer).apply(h) as tf.Tensor2D);
    if (opts.keepPre) pre.push(z);
    h = act.apply(z, { training: opts.training }) as tf.Tensor;
  });
  const logits = (net.dense[net.dense.length - 1] as tf.layers.Layer).apply(h) as tf.Tensor2D;
  return { logits, pre };
}
