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

export interface TPreset {
  id: string;
  title: string;
  description: string;
  spec: TExperimentSpecInput;
}

/**
 * The textbook chapter's two codes. Both sample 10,000 MNIST digits, split 80/20, and train
 * 4 hidden layers of 200 units with plain SGD at 0.01. Users usually shorten `epochs`.
 */
export const PRESETS: readonly TPreset[] = [
  {
    id: "chapter8-keras",
    title: "Chapter 8 — Keras code",
    description:
      "Keras defaults: glorot_uniform weights, batch 100. The chapter trained 1000 epochs (tanh 93.2%, ReLU 94.1%).",
    spec: {
      name: "chapter 8 (Keras code)",
      dataset: { name: "mnist", samples: 10_000, testFraction: 0.2, pixelScale: "unit", seed: 1 },
      model: { hiddenLayers: 4, units: 200, initializer: { name: "glorot_uniform" } },
      variants: CHAPTER_VARIANTS,
      training: {
        optimizer: { name: "sgd", learningRate: 0.01 },
        epochs: 1000,
        batchSize: 100,
        seed: 1,
        repeats: 3,
      },
      device: "cpu",
    },
  },
  {
    id: "chapter8-tf",
    title: "Chapter 8 — TensorFlow code",
    description:
      "Hand-written TensorFlow: truncated-normal weights (stddev 0.01), zero biases, batch 200, 50 epochs (LeakyReLU 93.7%, PReLU 92.55%).",
    spec: {
      name: "chapter 8 (TensorFlow code)",
      dataset: { name: "mnist", samples: 10_000, testFraction: 0.2, pixelScale: "unit", seed: 1 },
      model: { hiddenLayers: 4, units: 200, initializer: { name: "truncated_normal", stddev: 0.01 } },
      variants: CHAPTER_VARIANTS,
      training: {
        optimizer: { name: "sgd", learningRate: 0.01 },
        epochs: 50,
        batchSize: 200,
        seed: 1,
        repeats: 3,
      },
      device: "cpu",
    },
  },
];

export const PRESET_IDS = PRESETS.map((p) => p.id) as [string, ...string[]];
export const ZPresetId = z.enum(PRESET_IDS);

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
