import * as tf from "@tensorflow/tfjs";
import { mixSeed, rreluSlopes } from "./random.js";

/**
 * Activation layers TensorFlow.js lacks, registered for serialization so that a saved model
 * using them loads again with tf.loadLayersModel (after this module has been imported).
 */

type Kwargs = { training?: boolean } & Record<string, unknown>;
const one = (inputs: tf.Tensor | tf.Tensor[]): tf.Tensor =>
  Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;

/**
 * Randomized leaky ReLU: while training, every element's negative slope is drawn from
 * U(lower, upper); at inference the slope is their mean. The draw is seeded by `stepSeed`,
 * which the training loop sets from (run seed, epoch, batch, layer) before each step, so a
 * resumed run draws the same slopes as an uninterrupted one; the slopes come from a
 * counter-based hash (rreluSlopes) that the native engine computes identically.
 */
export class RReLU extends tf.layers.Layer {
  static readonly className = "RReLU";
  readonly lower: number;
  readonly upper: number;
  /** Seed for the next training-mode call; set by the training loop. */
  stepSeed: number | null = null;
  private fallbackCalls = 0;

  constructor(args: { lower: number; upper: number; name?: string }) {
    super(args.name === undefined ? {} : { name: args.name });
    if (!(args.lower <= args.upper)) throw new Error("RReLU: lower must not exceed upper");
    this.lower = args.lower;
    this.upper = args.upper;
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = one(inputs);
    if (!kwargs?.training) return tf.leakyRelu(x, (this.lower + this.upper) / 2);
    const seed = this.stepSeed ?? mixSeed(0x5eed, this.fallbackCalls++);
    return tf.tidy(() => {
      const slope = tf.tensor(rreluSlopes(seed, x.size, this.lower, this.upper), x.shape, "float32");
      // y = x·(slope + step(x)·(1 − slope)): x where x > 0, slope·x elsewhere. tf.step has a
      // (zero) gradient, unlike tf.greater, so autodiff passes through.
      const positive = tf.step(x);
      return tf.mul(x, tf.add(slope, tf.mul(positive, tf.sub(1, slope))));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), lower: this.lower, upper: this.upper };
  }
}
tf.serialization.registerClass(RReLU);

export type ExtraActivation = "elu" | "gelu" | "silu" | "mish";

/**
 * The activations whose TensorFlow.js layer is missing or limited (ELU only allows α = 1),
 * written from tf ops so autodiff gives their gradients.
 */
export class ActlabActivation extends tf.layers.Layer {
  static readonly className = "ActlabActivation";
  readonly fn: ExtraActivation;
  readonly alpha: number;

  constructor(args: { fn: ExtraActivation; alpha?: number; name?: string }) {
    super(args.name === undefined ? {} : { name: args.name });
    this.fn = args.fn;
    this.alpha = args.alpha ?? 1;
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = one(inputs);
    return tf.tidy(() => {
      switch (this.fn) {
        case "elu":
          // tf.elu has its own fast kernel; only α = 1 is built in.
          if (this.alpha === 1) return tf.elu(x);
          // relu(x) + α·expm1(min(x, 0)): the exponential never sees x > 0, so it cannot
          // overflow, and f′(0) = α like the catalog says.
          return tf.add(tf.relu(x), tf.mul(this.alpha, tf.expm1(tf.minimum(x, 0))));
        case "gelu":
          return tf.mul(x, tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
        case "silu":
          return tf.mul(x, tf.sigmoid(x));
        case "mish":
          return tf.mul(x, tf.tanh(tf.softplus(x)));
      }
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), fn: this.fn, alpha: this.alpha };
  }
}
tf.serialization.registerClass(ActlabActivation);
