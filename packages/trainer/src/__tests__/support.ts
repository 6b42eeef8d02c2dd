import { type TExperimentSpecInput, type TVariantInput, ZExperimentSpec, ZVariant } from "@actlab/contracts";

/** A small experiment (a few hundred samples, small layers) with overrides. */
export function tinySpec(over: Partial<TExperimentSpecInput> & { variant?: TVariantInput } = {}) {
  const { variant, ...rest } = over;
  return ZExperimentSpec.parse({
    dataset: { name: "mnist", samples: 300, testFraction: 0.2, seed: 3 },
    model: { hiddenLayers: 2, units: 16 },
    training: {
      optimizer: { name: "sgd", learningRate: 0.1 },
      epochs: 3,
      batchSize: 50,
      seed: 1,
      repeats: 1,
    },
    variants: [variant ?? { activation: "relu" }],
    ...rest,
  });
}

export const variantOf = (v: TVariantInput) => ZVariant.parse(v);
