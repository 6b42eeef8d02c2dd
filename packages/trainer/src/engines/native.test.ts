import { ACTIVATION_NAMES, type TEpochMetrics, type TVariantInput } from "@actlab/contracts";
import { nativeActivation, nativeMixSeed } from "@actlab/native";
import { beforeAll, describe, expect, it } from "vitest";
import { tinySpec, variantOf } from "../__tests__/support.js";
import { getActivation } from "../activations.js";
import { initBackend } from "../backend.js";
import type { TrainCheckpoint } from "../checkpoint.js";
import { type LoadedDataset, loadDataset } from "../data/datasets.js";
import { buildNet } from "../model.js";
import { mixSeed } from "../random.js";
import { PROBE_SIZE, type TrainRunOptions, trainRun } from "../train.js";
import type { EngineContext, RunEngine } from "./engine.js";
import { createNativeEngine } from "./native.js";
import { createTfjsEngine } from "./tfjs.js";

/**
 * The native engine against the TF.js one (plain CPU backend) from the same initial weights and
 * batches, for every activation × optimizer: the engines must agree to float rounding.
 */

/** Each activation with parameters other than its defaults where it has any. */
const VARIANTS: TVariantInput[] = ACTIVATION_NAMES.map((activation) => {
  switch (activation) {
    case "leaky_relu":
      return { activation, alpha: 0.2 };
    case "prelu":
      return { activation, alphaInit: 0.25 };
    case "rrelu":
      return { activation, lower: 0.1, upper: 0.4 };
    case "elu":
      return { activation, alpha: 0.7 };
    default:
      return { activation };
  }
});
const OPTIMIZERS = [
  { name: "sgd", learningRate: 0.1 },
  { name: "momentum", learningRate: 0.05, momentum: 0.9 },
  { name: "adam", learningRate: 0.003 },
] as const;

let data: LoadedDataset;
beforeAll(async () => {
  await initBackend({ device: "cpu", force: "native" });
  data = await loadDataset(tinySpec().dataset);
});

function specFor(variant: TVariantInput, optimizer: (typeof OPTIMIZERS)[number], epochs = 3) {
  return tinySpec({
    variant,
    training: { optimizer, epochs, batchSize: 12 },
  });
}

function engines(spec: ReturnType<typeof specFor>): { native: RunEngine; tfjs: RunEngine; dispose(): void } {
  const variant = spec.variants[0] as ReturnType<typeof variantOf>;
  const make = () => {
    const net = buildNet({
      model: spec.model,
      variant,
      seed: 9,
      inputSize: data.inputSize,
      classes: data.classes,
    });
    const ctx: EngineContext = { spec, net, seed: 9, data, probeN: Math.min(PROBE_SIZE, data.nTrain) };
    return { net, ctx };
  };
  const a = make();
  const b = make();
  const native = createNativeEngine(a.ctx);
  const tfjs = createTfjsEngine(b.ctx, "cpu");
  return {
    native,
    tfjs,
    dispose() {
      native.dispose();
      tfjs.dispose();
      a.net.model.dispose();
      b.net.model.dispose();
    },
  };
}

async function run(spec: ReturnType<typeof specFor>, extra: Partial<TrainRunOptions> = {}) {
  const epochs: TEpochMetrics[] = [];
  const checkpoints: (TrainCheckpoint | null)[] = [];
  const result = await trainRun({
    spec,
    variant: spec.variants[0] as ReturnType<typeof variantOf>,
    seed: 5,
    dataset: data,
    backend: "native",
    onEpoch: async (m, c) => {
      epochs.push(m);
      checkpoints.push(c);
    },
    ...extra,
  });
  return { result, epochs, checkpoints };
}

describe("native engine against TF.js", () => {
  for (const variant of VARIANTS) {
    for (const optimizer of OPTIMIZERS) {
      it(`${variant.activation} × ${optimizer.name}: 20 steps' losses within 1e-5, then equal probe metrics`, () => {
        const e = engines(specFor(variant, optimizer));
        try {
          const rows = 12;
          for (let step = 0; step < 20; step++) {
            const from = (step * rows) % (data.nTrain - rows);
            const x = data.trainX.slice(from * data.inputSize, (from + rows) * data.inputSize);
            const y = Int32Array.from(data.trainY.subarray(from, from + rows));
            const at = { epoch: 1, batch: step };
            const n = e.native.trainBatch(x, y, rows, at);
            const t = e.tfjs.trainBatch(x, y, rows, at);
            expect(Math.abs(n.loss - t.loss), `step ${step}`).toBeLessThan(1e-5);
            expect(n.correct).toBe(t.correct);
          }
          const pn = e.native.probe();
          const pt = e.tfjs.probe();
          pn.gradNorms.forEach((g, i) => {
            expect(Math.abs(g - (pt.gradNorms[i] as number))).toBeLessThanOrEqual(1e-4 * Math.max(1, g));
          });
          expect(pn.deadFraction).toEqual(pt.deadFraction);
          expect(pn.saturatedFraction).toEqual(pt.saturatedFraction);
          if (pt.preluAlphaMean) {
            expect(pn.preluAlphaMean).toHaveLength(pt.preluAlphaMean.length);
            pn.preluAlphaMean?.forEach((a, i) => {
              expect(a).toBeCloseTo(pt.preluAlphaMean?.[i] as number, 5);
            });
          } else expect(pn.preluAlphaMean).toBeNull();
          const en = e.native.evaluate();
          const et = e.tfjs.evaluate();
          expect(Math.abs(en.loss - et.loss)).toBeLessThan(1e-5);
          expect(en.accuracy).toBe(et.accuracy);
        } finally {
          e.dispose();
        }
      });
    }
  }

  for (const variant of VARIANTS) {
    for (const optimizer of OPTIMIZERS) {
      it(`${variant.activation} × ${optimizer.name}: test accuracy within 0.5 points of TF.js's after 3 epochs`, async () => {
        const spec = specFor(variant, optimizer);
        const native = await run(spec);
        const tfjs = await run(spec, { backend: "cpu" });
        expect(native.result.backend).toBe("native");
        const gap = Math.abs((native.result.testAccuracy as number) - (tfjs.result.testAccuracy as number));
        expect(gap).toBeLessThanOrEqual(0.005);
      });
    }
  }
});

describe("native kernels against the catalog", () => {
  const grid = Float32Array.from([-30, -5, -2, -1, -0.5, -0.01, 0, 0.01, 0.5, 1, 2, 5, 30]);
  for (const variant of VARIANTS) {
    it(`${variant.activation}: f and f′ (and ∂f/∂α for prelu) equal the catalog's on a grid with 0 and ±30`, () => {
      const v = variantOf(variant) as unknown as Record<string, number> & {
        activation: (typeof ACTIVATION_NAMES)[number];
      };
      const info = getActivation(v.activation);
      const p0 = v.alpha ?? v.alphaInit ?? v.lower ?? 0;
      const p1 = v.upper ?? 0;
      const { f, df, dalpha } = nativeActivation(info.nativeId, grid, p0, p1);
      const q = v.activation === "prelu" ? { alpha: v.alphaInit } : v;
      grid.forEach((x, i) => {
        const close = (a: number, b: number) => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)) + 1e-6;
        expect(close(f[i] as number, info.f(x, q)), `f(${x}) = ${f[i]}, catalog ${info.f(x, q)}`).toBe(true);
        expect(close(df[i] as number, info.df(x, q)), `f′(${x}) = ${df[i]}, catalog ${info.df(x, q)}`).toBe(
          true,
        );
        expect(dalpha[i]).toBe(v.activation === "prelu" && x <= 0 ? x : 0);
      });
    });
  }

  it("rrelu's slope hash is the trainer's mixSeed", () => {
    for (const [a, b] of [
      [0, 0],
      [1, 2],
      [0xffffffff, 12345],
      [2 ** 31, 7],
    ] as const) {
      expect(nativeMixSeed(a, b)).toBe(mixSeed(a, b));
    }
  });
});

describe("native training runs", () => {
  const spec = specFor({ activation: "rrelu" }, OPTIMIZERS[2], 4);

  it("are bit-identical for the same spec and seed", async () => {
    const a = await run(spec);
    const b = await run(spec);
    expect(a.epochs.map(({ seconds: _s, ...m }) => m)).toEqual(b.epochs.map(({ seconds: _s, ...m }) => m));
    expect(
      Buffer.from(a.result.artifact?.weights ?? []).equals(Buffer.from(b.result.artifact?.weights ?? [])),
    ).toBe(true);
  });

  it("checkpoint by time: none between, one at the last epoch; interval 0 checkpoints every epoch", async () => {
    const slow = await run(spec, { checkpointIntervalMs: 3_600_000 });
    expect(slow.checkpoints.map((c) => c?.epoch ?? null)).toEqual([null, null, null, 4]);
    const every = await run(spec, { checkpointIntervalMs: 0 });
    expect(every.checkpoints.map((c) => c?.epoch)).toEqual([1, 2, 3, 4]);
  });

  it("a run resumed from its epoch-2 checkpoint ends identical to the uninterrupted run", async () => {
    const full = await run(spec, { checkpointIntervalMs: 0 });
    const resumed = await run(spec, { resumeFrom: full.checkpoints[1] as TrainCheckpoint });
    const strip = (ms: TEpochMetrics[]) => ms.map(({ seconds: _s, ...m }) => m);
    expect(strip(resumed.epochs)).toEqual(strip(full.epochs.slice(2)));
    expect(
      Buffer.from(resumed.result.artifact?.weights ?? []).equals(
        Buffer.from(full.result.artifact?.weights ?? []),
      ),
    ).toBe(true);
  });

  it("a TF.js checkpoint resumes on native and a native one on TF.js (one format)", async () => {
    const s = specFor({ activation: "tanh" }, OPTIMIZERS[1], 3);
    const tfjs = await run(s, { backend: "cpu", checkpointIntervalMs: 0 });
    const native = await run(s, { checkpointIntervalMs: 0 });
    const onNative = await run(s, { resumeFrom: tfjs.checkpoints[0] as TrainCheckpoint });
    const onTfjs = await run(s, { backend: "cpu", resumeFrom: native.checkpoints[0] as TrainCheckpoint });
    expect(onNative.epochs.at(-1)?.trainLoss).toBeCloseTo(tfjs.epochs.at(-1)?.trainLoss as number, 5);
    expect(onTfjs.epochs.at(-1)?.trainLoss).toBeCloseTo(native.epochs.at(-1)?.trainLoss as number, 5);
  });

  it("stops between batches on cancel and hands out the last completed epoch's checkpoint", async () => {
    let batches = 0;
    const handed: TrainCheckpoint[] = [];
    const stopAt = Math.ceil(data.nTrain / 12) + 3; // three batches into epoch 2
    const r = await run(spec, {
      checkpointIntervalMs: 3_600_000,
      onBatch: () => {
        batches++;
      },
      shouldStop: () => (batches >= stopAt ? "cancel" : null),
      onCheckpoint: async (c) => {
        handed.push(c);
      },
    });
    expect(r.result.outcome).toBe("canceled");
    expect(batches).toBe(stopAt);
    expect(r.result.epochsCompleted).toBe(1);
    expect(handed.map((c) => c.epoch)).toEqual([1]);
    expect(r.result.artifact).toBeNull();
  });
});
