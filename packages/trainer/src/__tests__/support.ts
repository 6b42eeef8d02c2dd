import { type TExperimentSpecInput, type TVariantInput, ZExperimentSpec, ZVariant } from "@actlab/contracts";

const TINY_TRAINING = {
  optimizer: { name: "sgd", learningRate: 0.1 },
  epochs: 3,
  batchSize: 50,
  seed: 1,
  repeats: 1,
} as const;

type TrainingInput = NonNullable<TExperimentSpecInput["training"]>;

/**
 * A small experiment (a few hundred samples, small layers, 3 epochs of SGD) with overrides: each
 * replaces its part of the spec, except `training`, which is merged (give only what differs).
 */
export function tinySpec(
  over: Omit<Partial<TExperimentSpecInput>, "training"> & {
    variant?: TVariantInput;
    training?: Partial<TrainingInput>;
  } = {},
) {
  const { variant, training, ...rest } = over;
  return ZExperimentSpec.parse({
    dataset: { name: "mnist", samples: 300, testFraction: 0.2, seed: 3 },
    model: { hiddenLayers: 2, units: 16 },
    training: { ...TINY_TRAINING, ...training },
    variants: [variant ?? { activation: "relu" }],
    ...rest,
  });
}

export const variantOf = (v: TVariantInput) => ZVariant.parse(v);
