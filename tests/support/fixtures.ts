import type { TEpochMetrics } from "@actlab/contracts";

/**
 * An epoch with nothing to say (losses 1, accuracies 0.5, a 2-hidden-layer network's lists), for
 * tests that store epochs to exercise the lifecycle, estimates or summaries rather than training.
 * `overrides` sets what the test looks at.
 */
export function plainEpoch(epoch: number, overrides: Partial<TEpochMetrics> = {}): TEpochMetrics {
  return {
    epoch,
    trainLoss: 1,
    trainAccuracy: 0.5,
    testLoss: 1,
    testAccuracy: 0.5,
    gradNorms: [1, 1, 1],
    deadFraction: [0, 0],
    saturatedFraction: [0, 0],
    preluAlphaMean: null,
    seconds: 0.5,
    ...overrides,
  };
}

/** What a small experiment request changes from the defaults below. */
export interface SmallRequest {
  samples?: number;
  /** Hidden layers × units. */
  net?: [number, number];
  activations?: string[];
  epochs?: number;
  batchSize?: number;
  repeats?: number;
  learningRate?: number;
}

/**
 * The body of `POST /v1/experiments` for a small network (by default 200 samples, 2 × 8 units,
 * relu and tanh, 1 epoch, batches of 50): the request tests, benches and e2e sessions submit,
 * written once so that a change of the request's shape changes one place.
 */
export function smallRequest(name: string, r: SmallRequest = {}) {
  const [hiddenLayers, units] = r.net ?? [2, 8];
  return {
    name,
    dataset: { samples: r.samples ?? 200 },
    model: { hiddenLayers, units },
    variants: (r.activations ?? ["relu", "tanh"]).map((activation) => ({ activation })),
    training: {
      epochs: r.epochs ?? 1,
      repeats: r.repeats ?? 1,
      batchSize: r.batchSize ?? 50,
      ...(r.learningRate === undefined ? {} : { optimizer: { learningRate: r.learningRate } }),
    },
  };
}
