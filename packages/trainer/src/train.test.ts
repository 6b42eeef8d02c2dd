import { type TEpochMetrics, ZEpochMetrics } from "@actlab/contracts";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { tinySpec, variantOf } from "./__tests__/support.js";
import { loadArtifactModel, predict } from "./artifact.js";
import { initBackend } from "./backend.js";
import type { TrainCheckpoint } from "./checkpoint.js";
import { type LoadedDataset, loadDataset } from "./data/datasets.js";
import { TrainingDivergedError } from "./errors.js";
import { buildNet } from "./model.js";
import { probeMetrics, type TrainRunOptions, trainRun } from "./train.js";

let data: LoadedDataset;
beforeAll(async () => {
  await initBackend({ device: "cpu", force: "cpu" });
  data = await loadDataset(tinySpec().dataset);
});

type Spec = ReturnType<typeof tinySpec>;
async function run(spec: Spec, extra: Partial<TrainRunOptions> = {}) {
  const epochs: TEpochMetrics[] = [];
  const checkpoints: TrainCheckpoint[] = [];
  const result = await trainRun({
    spec,
    variant: spec.variants[0] as Spec["variants"][number],
    seed: 17,
    dataset: data,
    checkpointIntervalMs: 0, // a checkpoint every epoch, for the resume tests
    onEpoch: async (m, c) => {
      if (!c) throw new Error("interval 0 checkpoints every epoch");
      epochs.push(m);
      checkpoints.push(c);
    },
    ...extra,
  });
  return { result, epochs, checkpoints };
}
const withoutSeconds = (ms: TEpochMetrics[]) => ms.map(({ seconds: _s, ...rest }) => rest);

describe("trainRun", () => {
  it("reports schema-valid metrics for every epoch: losses, accuracies, per-layer gradient norms and unit fractions", async () => {
    const spec = tinySpec({ model: { hiddenLayers: 3, units: 16 } });
    const { result, epochs } = await run(spec);
    expect(result).toMatchObject({ outcome: "completed", epochsCompleted: 3, backend: "cpu" });
    expect(epochs.map((m) => m.epoch)).toEqual([1, 2, 3]);
    for (const m of epochs) {
      ZEpochMetrics.parse(m);
      expect(m.gradNorms).toHaveLength(4);
      expect(m.deadFraction).toHaveLength(3);
      expect(m.saturatedFraction).toHaveLength(3);
      expect(m.preluAlphaMean).toBeNull();
      expect(m.gradNorms.every((g) => g > 0 && Number.isFinite(g))).toBe(true);
      expect(m.trainAccuracy).toBeGreaterThanOrEqual(0);
      expect(m.testAccuracy).toBeLessThanOrEqual(1);
    }
    expect(epochs[2]?.trainLoss).toBeLessThan(epochs[0]?.trainLoss as number); // it learns
    expect(result.testAccuracy).toBe(epochs[2]?.testAccuracy);
    expect(result.testLoss).toBe(epochs[2]?.testLoss);
  });

  it("is reproducible: same seed, same numbers; another seed, other numbers", async () => {
    const spec = tinySpec({ variant: { activation: "rrelu" } });
    const a = await run(spec);
    const b = await run(spec);
    expect(withoutSeconds(b.epochs)).toEqual(withoutSeconds(a.epochs));
    expect(b.result.artifact?.sha256).toBe(a.result.artifact?.sha256);
    const c = await run(spec, { seed: 18 });
    expect(c.epochs[0]?.trainLoss).not.toBe(a.epochs[0]?.trainLoss);
  });

  for (const [label, over] of [
    ["sgd + relu", {}],
    [
      "momentum + rrelu",
      {
        variant: { activation: "rrelu" },
        training: {
          optimizer: { name: "momentum", learningRate: 0.05 },
        },
      },
    ],
    [
      "adam + prelu",
      {
        variant: { activation: "prelu", alphaInit: 0.1 },
        training: {
          optimizer: { name: "adam", learningRate: 0.005 },
        },
      },
    ],
  ] as const) {
    it(`${label}: resuming from any epoch's checkpoint gives the metrics of a run that never stopped`, async () => {
      const spec = tinySpec(over as Parameters<typeof tinySpec>[0]);
      const full = await run(spec);
      // Stop in the middle of epoch 2 (shutdown), as a worker receiving SIGTERM would.
      let batches = 0;
      const stopped = await run(spec, {
        shouldStop: () => (++batches > 7 ? "shutdown" : null), // 5 batches per epoch
      });
      expect(stopped.result.outcome).toBe("shutdown");
      expect(stopped.result.epochsCompleted).toBe(1);
      expect(stopped.result.artifact).toBeNull();
      expect(stopped.result.checkpoint?.epoch).toBe(1);
      expect(withoutSeconds(stopped.epochs)).toEqual(withoutSeconds(full.epochs.slice(0, 1)));
      // The checkpoint crosses a JSON/bytes boundary, like the worker storing it in Postgres.
      const cp = stopped.result.checkpoint as TrainCheckpoint;
      const stored: TrainCheckpoint = {
        epoch: cp.epoch,
        state: JSON.parse(JSON.stringify(cp.state)),
        weights: new Uint8Array([0, ...cp.weights]).subarray(1), // deliberately unaligned
      };
      const resumed = await run(spec, { resumeFrom: stored });
      expect(resumed.result.outcome).toBe("completed");
      expect(resumed.result.epochsCompleted).toBe(3);
      expect(withoutSeconds(resumed.epochs)).toEqual(withoutSeconds(full.epochs.slice(1)));
      expect(resumed.result.artifact?.sha256).toBe(full.result.artifact?.sha256);
      // And from the last checkpoint straight to the end: nothing left to train, same final numbers.
      const atEnd = await run(spec, { resumeFrom: full.checkpoints[2] as TrainCheckpoint });
      expect(atEnd.epochs).toEqual([]);
      expect(atEnd.result.testAccuracy).toBe(full.result.testAccuracy);
    });
  }

  it("honours cancellation between batches and returns the last completed epoch's checkpoint", async () => {
    const spec = tinySpec({
      training: {
        epochs: 5,
      },
    });
    const seen: Array<{ epoch: number; batch: number }> = [];
    let cancel = false;
    const { result, epochs } = await run(spec, {
      onBatch: (b) => {
        seen.push(b);
        if (b.epoch === 2 && b.batch === 1) cancel = true;
      },
      shouldStop: () => (cancel ? "cancel" : null),
    });
    expect(result.outcome).toBe("canceled");
    expect(result.epochsCompleted).toBe(1);
    expect(epochs).toHaveLength(1);
    expect(result.checkpoint?.epoch).toBe(1);
    expect(seen.at(-1)).toMatchObject({ epoch: 2, batch: 1, batches: 5 }); // 240 samples / 50 per batch
    // Nothing is canceled before it starts: a stop requested up front trains no batch.
    const none = await run(spec, { shouldStop: () => "cancel" });
    expect(none.result).toMatchObject({
      outcome: "canceled",
      epochsCompleted: 0,
      checkpoint: null,
      testAccuracy: null,
    });
  });

  it("awaits onEpoch before the next epoch and loads the spec's dataset itself when none is given", async () => {
    const spec = tinySpec();
    const events: string[] = [];
    await trainRun({
      spec,
      variant: spec.variants[0] as Spec["variants"][number],
      seed: 17,
      onBatch: ({ epoch, batch }) => {
        if (batch === 1) events.push(`start ${epoch}`);
      },
      onEpoch: async (m) => {
        events.push(`epoch ${m.epoch} begin`);
        await new Promise((r) => setTimeout(r, 30));
        events.push(`epoch ${m.epoch} end`);
      },
    });
    expect(events).toEqual([
      "start 1",
      "epoch 1 begin",
      "epoch 1 end",
      "start 2",
      "epoch 2 begin",
      "epoch 2 end",
      "start 3",
      "epoch 3 begin",
      "epoch 3 end",
    ]);
  });

  it("fails with TrainingDivergedError when the loss stops being finite, leaving no tensors behind", async () => {
    const before = tf.memory().numTensors;
    const spec = tinySpec({
      dataset: { name: "mnist", samples: 300, testFraction: 0.2, seed: 3, pixelScale: "raw" },
      model: { hiddenLayers: 4, units: 64 },
      training: {
        optimizer: { name: "sgd", learningRate: 10 },
      },
    });
    const reported: number[] = [];
    const err = await run(spec, {
      onEpoch: async (m) => {
        reported.push(m.epoch);
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    expect((err as TrainingDivergedError).epoch).toBe(1);
    expect((err as Error).message).toMatch(/learning rate/);
    expect(reported).toEqual([]); // a NaN epoch is never reported
    expect(tf.memory().numTensors).toBe(before);
  });

  it("leaks no tensors: the live count is the same after every epoch and back to the start afterwards", async () => {
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    for (const variant of [
      { activation: "prelu" },
      { activation: "rrelu" },
      { activation: "elu", alpha: 0.5 },
    ] as const) {
      counts.length = 0;
      await run(
        tinySpec({
          variant,
          training: {
            optimizer: { name: "adam", learningRate: 0.01 },
            epochs: 4,
          },
        }),
        {
          onEpoch: async () => {
            counts.push(tf.memory().numTensors);
          },
        },
      );
      expect(new Set(counts).size).toBe(1);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it("exports a model whose predictions reproduce the reported test accuracy", async () => {
    const spec = tinySpec({ variant: { activation: "rrelu", lower: 0.1, upper: 0.3 } });
    const { result } = await run(spec);
    const model = await loadArtifactModel(result.artifact as NonNullable<typeof result.artifact>);
    const inputs = Array.from({ length: data.nTest }, (_, i) =>
      Array.from(data.testX.subarray(i * 784, (i + 1) * 784)),
    );
    const { classes } = predict(model, inputs);
    const accuracy = classes.filter((c, i) => c === data.testY[i]).length / data.nTest;
    expect(accuracy).toBeCloseTo(result.testAccuracy as number, 10);
    model.dispose();
  });

  it("prelu: slopes are learned and reported per hidden layer", async () => {
    const { epochs } = await run(tinySpec({ variant: { activation: "prelu", alphaInit: 0.25 } }));
    for (const m of epochs) expect(m.preluAlphaMean).toHaveLength(2);
    const means = epochs.map((m) => m.preluAlphaMean?.[0] as number);
    expect(means.some((a) => Math.abs(a - 0.25) > 1e-4)).toBe(true);
  });

  it("measures dead ReLU units and saturated sigmoid units on the probe batch", () => {
    const probeX = tf.tensor2d(data.trainX.subarray(0, 64 * 784), [64, 784]);
    const probeY = tf.tensor1d(Int32Array.from(data.trainY.subarray(0, 64)), "int32");
    const netWith = (activation: "relu" | "sigmoid" | "leaky_relu", bias: number[], scale = 1) => {
      const net = buildNet({
        model: { hiddenLayers: 2, units: 4, initializer: { name: "glorot_uniform" } },
        variant: variantOf({ activation }),
        seed: 3,
        inputSize: 784,
        classes: 10,
      });
      const w = net.model.getWeights();
      // Layer 1: the given biases (and scaled kernel); layer 2 untouched.
      net.model.setWeights(w.map((t, i) => (i === 0 ? t.mul(scale) : i === 1 ? tf.tensor1d(bias) : t)));
      return net;
    };
    // Units 0 and 1 of layer 1 get a bias of -1000: never active, so dead (and flat).
    const relu = netWith("relu", [-1000, -1000, 0, 0]);
    const r = probeMetrics(relu, probeX, probeY, 10);
    expect(r.deadFraction[0]).toBe(0.5);
    expect(r.saturatedFraction[0]).toBe(0.5);
    // Leaky ReLU with α = 0.01 is never flat (|f′| ≥ 0.01), even when the unit is "dead".
    const leaky = probeMetrics(netWith("leaky_relu", [-1000, 0, 0, 0]), probeX, probeY, 10);
    expect(leaky.deadFraction[0]).toBe(0.25);
    expect(leaky.saturatedFraction[0]).toBe(0);
    // Sigmoid: ±1000 biases pin three units at 0 or 1; dead is a ReLU-family notion only.
    const sig = probeMetrics(netWith("sigmoid", [1000, -1000, 1000, 0]), probeX, probeY, 10);
    expect(sig.saturatedFraction[0]).toBe(0.75);
    expect(sig.deadFraction).toEqual([0, 0]);
    const calm = probeMetrics(netWith("sigmoid", [0, 0, 0, 0]), probeX, probeY, 10);
    expect(calm.saturatedFraction[0]).toBe(0);
    tf.dispose([probeX, probeY]);
  });

  it("shows the vanishing gradient: with sigmoid in 4 layers the first layer's gradient is far below the last's, unlike relu", async () => {
    const deep = (activation: "relu" | "sigmoid") =>
      tinySpec({
        variant: { activation },
        model: { hiddenLayers: 4, units: 32 },
        training: {
          optimizer: { name: "sgd", learningRate: 0.01 },
          epochs: 1,
        },
      });
    const ratio = (m: TEpochMetrics) => (m.gradNorms[0] as number) / (m.gradNorms.at(-1) as number);
    const sig = (await run(deep("sigmoid"))).epochs[0] as TEpochMetrics;
    const relu = (await run(deep("relu"))).epochs[0] as TEpochMetrics;
    expect(ratio(sig)).toBeLessThan(0.05);
    expect(ratio(relu)).toBeGreaterThan(10 * ratio(sig));
  });
});
