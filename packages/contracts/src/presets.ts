import { z } from "zod";
import type { TExperimentSpecInput } from "./spec.js";

const CHAPTER_VARIANTS: TExperimentSpecInput["variants"] = [
  { activation: "sigmoid" },
  { activation: "tanh" },
  { activation: "relu" },
  { activation: "leaky_relu", alpha: 0.01 },
  { activation: "prelu", alphaInit: 0 },
  { activation: "rrelu", lower: 0.125, upper: 0.333 },
  { activation: "elu", alpha: 1 },
];

/**
 * What every preset shares with the chapter: 10,000 MNIST digits split 80/20, 4 hidden layers of
 * 200 units, plain SGD at 0.01, the seven activations, 3 repeats. The presets differ only in
 * what the chapter's two codes did differently.
 */
function chapterSpec(code: {
  name: string;
  pixelScale: "unit" | "raw";
  initializer: NonNullable<TExperimentSpecInput["model"]>["initializer"];
  epochs: number;
  batchSize: number;
}): TExperimentSpecInput {
  return {
    name: code.name,
    dataset: { name: "mnist", samples: 10_000, testFraction: 0.2, pixelScale: code.pixelScale, seed: 1 },
    model: { hiddenLayers: 4, units: 200, initializer: code.initializer },
    variants: CHAPTER_VARIANTS,
    training: {
      optimizer: { name: "sgd", learningRate: 0.01 },
      epochs: code.epochs,
      batchSize: code.batchSize,
      seed: 1,
      repeats: 3,
    },
    device: "cpu",
  };
}

/** A preset's short version: the same experiment with fewer epochs and repeats, to try it first. */
export interface TPresetQuick {
  epochs: number;
  repeats: number;
}

export interface TPreset {
  id: string;
  title: string;
  description: string;
  spec: TExperimentSpecInput;
  /** Its quick version (the spec is the full one): `{ preset, training: quick }` submits it. */
  quick?: TPresetQuick;
}

/** The spec of a preset's quick version: its own with the quick epochs and repeats. */
export function quickSpec(spec: unknown, quick: TPresetQuick): unknown {
  return mergeSpec(spec, { training: { epochs: quick.epochs, repeats: quick.repeats } });
}

/**
 * The textbook chapter's two codes. Both sample 10,000 MNIST digits, split 80/20, and train
 * 4 hidden layers of 200 units (Dense + activation, softmax output, cross-entropy) with plain
 * SGD at 0.01 and zero biases; the variants are the chapter's seven activations, 3 repeats each.
 * Each has a quick version (`quick`: fewer epochs, 1 repeat) to try before the full one; the form
 * offers both with an estimate of each, the API takes it as `{ "preset": id, "training": quick }`.
 *
 * Pixel scaling (measured with this trainer, 2 epochs each, wasm backend): the chapter fed raw
 * 0–255 pixels to both codes. With Keras' glorot_uniform weights, raw pixels make ReLU's
 * pre-activations reach the hundreds and SGD at 0.01 diverges to NaN in the first epoch (test
 * accuracy 9.6%): Keras survives it only because it computes the loss from clipped softmax
 * probabilities, which zeroes the gradient of hopeless examples, while actlab's cross-entropy
 * on the logits does not. So the Keras preset uses [0,1] pixels. With the TensorFlow code's
 * truncated-normal(0.01) weights the opposite holds: on [0,1] pixels the signal shrinks ~10× per
 * layer and ReLU is still at chance after 8 epochs, while raw pixels start learning (35% at
 * epoch 8, climbing), as in the chapter — so the TensorFlow preset keeps raw pixels.
 */
export const PRESETS: readonly TPreset[] = [
  {
    id: "chapter8-keras",
    quick: { epochs: 10, repeats: 1 },
    title: "Chapter 8 — Keras code",
    description:
      "The chapter's Keras code for tanh and ReLU: glorot_uniform weights, zero biases, batch 100, 1000 epochs " +
      "(chapter: tanh 93.2%, ReLU 94.1%), 3 repeats. Pixels scaled to [0,1]: the chapter's raw 0–255 pixels " +
      "make ReLU diverge to NaN in the first epoch with actlab's logits cross-entropy.",
    spec: chapterSpec({
      name: "chapter 8 (Keras code)",
      pixelScale: "unit",
      initializer: { name: "glorot_uniform" },
      epochs: 1000,
      batchSize: 100,
    }),
  },
  {
    id: "chapter8-tf",
    quick: { epochs: 10, repeats: 1 },
    title: "Chapter 8 — TensorFlow code",
    description:
      "The chapter's hand-written TensorFlow code for LeakyReLU and PReLU: truncated-normal weights " +
      "(stddev 0.01), zero biases, batch 200, 50 epochs (chapter: LeakyReLU 93.7%, PReLU 92.55%), 3 repeats. " +
      "Raw 0–255 pixels as in the chapter: with such small weights [0,1] pixels leave the 4-layer net at " +
      "chance for many epochs, raw pixels train.",
    spec: chapterSpec({
      name: "chapter 8 (TensorFlow code)",
      pixelScale: "raw",
      initializer: { name: "truncated_normal", stddev: 0.01 },
      epochs: 50,
      batchSize: 200,
    }),
  },
  {
    id: "chapter8-keras-short",
    quick: { epochs: 5, repeats: 1 },
    title: "Chapter 8 — Keras code, 20 epochs",
    description:
      "The chapter's Keras code for LeakyReLU and PReLU: as chapter8-keras but batch 200 and 20 epochs " +
      "(chapter: LeakyReLU 92.9%, PReLU 90.6%), 3 repeats, [0,1] pixels (see chapter8-keras).",
    spec: chapterSpec({
      name: "chapter 8 (Keras code, 20 epochs)",
      pixelScale: "unit",
      initializer: { name: "glorot_uniform" },
      epochs: 20,
      batchSize: 200,
    }),
  },
  {
    id: "vanishing-depth",
    quick: { epochs: 5, repeats: 1 },
    title: "At what depth does each activation stop training?",
    description:
      "sigmoid, tanh, ReLU, LeakyReLU and ELU in 1, 2, 3, 4, 6, 8 and 10 hidden layers of 200 units, 3 repeats, " +
      "20 epochs, otherwise the chapter's Keras code (10,000 digits, glorot_uniform, SGD 0.01, batch 100, [0,1] pixels): " +
      "105 runs. Each layer multiplies sigmoid's gradient by σ′ ≤ 1/4, so its first layer's gradient shrinks with depth.",
    spec: {
      ...chapterSpec({
        name: "vanishing gradient against depth",
        pixelScale: "unit",
        initializer: { name: "glorot_uniform" },
        epochs: 20,
        batchSize: 100,
      }),
      variants: [
        { activation: "sigmoid" },
        { activation: "tanh" },
        { activation: "relu" },
        { activation: "leaky_relu", alpha: 0.01 },
        { activation: "elu", alpha: 1 },
      ],
      sweep: { "model.hiddenLayers": [1, 2, 3, 4, 6, 8, 10] },
    },
  },
];

/** Which code (preset) and how many epochs a figure of the chapter comes from. */
export const ZChapterFigure = z.strictObject({
  accuracy: z.number().describe("test accuracy, a fraction in [0,1]"),
  code: z.enum(["keras", "tf"]),
  epochs: z.number().int(),
  batchSize: z.number().int(),
});
export type TChapterFigure = z.infer<typeof ZChapterFigure>;

/**
 * The test accuracies the chapter prints, by activation. It names sigmoid (as the one whose
 * gradient vanishes), RReLU and ELU without numbers.
 */
export const CHAPTER8_FIGURES: Readonly<Partial<Record<string, readonly TChapterFigure[]>>> = {
  tanh: [{ accuracy: 0.932, code: "keras", epochs: 1000, batchSize: 100 }],
  relu: [{ accuracy: 0.941, code: "keras", epochs: 1000, batchSize: 100 }],
  leaky_relu: [
    { accuracy: 0.937, code: "tf", epochs: 50, batchSize: 200 },
    { accuracy: 0.929, code: "keras", epochs: 20, batchSize: 200 },
  ],
  prelu: [
    { accuracy: 0.9255, code: "tf", epochs: 50, batchSize: 200 },
    { accuracy: 0.906, code: "keras", epochs: 20, batchSize: 200 },
  ],
};

export const PRESET_IDS = PRESETS.map((p) => p.id) as [string, ...string[]];

export function findPreset(id: string): TPreset | undefined {
  return PRESETS.find((p) => p.id === id);
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === "object" && v !== null && !Array.isArray(v);

/** Deep-merges overrides onto a base; arrays and scalars in `over` replace the base's. */
export function mergeSpec(base: unknown, over: unknown): unknown {
  if (!isPlain(base) || !isPlain(over)) return over === undefined ? base : over;
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeSpec(base[k], v);
  return out;
}
