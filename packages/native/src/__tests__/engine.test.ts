import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { DEFAULT_ADDON_PATH, type EngineConfig, loadNative, NativeEngine } from "../index.js";
import { requireAddon } from "./support.js";

/** The addon's safety: every bad call is a JavaScript error, memory is freed per engine, threads load it. */

const config: EngineConfig = {
  inputSize: 6,
  units: 5,
  hiddenLayers: 2,
  classes: 3,
  maxRows: 8,
  activationId: 2,
  optimizer: "adam",
  learningRate: 0.01,
};

requireAddon();

function batch(rows: number) {
  return {
    x: Float32Array.from({ length: rows * config.inputSize }, (_, i) => Math.sin(i)),
    y: Int32Array.from({ length: rows }, (_, i) => i % config.classes),
  };
}

describe("native engine safety", () => {
  it("reports OpenBLAS's core and one thread, whatever OPENBLAS_* the environment sets", () => {
    const loaded = loadNative();
    expect(loaded.ok).toBe(true);
    if (loaded.ok) {
      expect(loaded.blas.threads).toBe(1);
      expect(loaded.blas.corename.length).toBeGreaterThan(0);
    }
  });

  it("rejects bad configurations with a RangeError naming the field", () => {
    expect(() => new NativeEngine({ ...config, units: 0 })).toThrow(/units/);
    expect(() => new NativeEngine({ ...config, activationId: 13 })).toThrow(/activation/);
    expect(() => new NativeEngine({ ...config, learningRate: Number.NaN })).toThrow(/learning_rate/);
    expect(() => new NativeEngine({ ...config, inputSize: 1.5 })).toThrow(
      /inputSize must be a 32-bit integer/,
    );
    expect(() => new NativeEngine({ ...config, activationId: 5, p0: 0.5, p1: 0.1 })).toThrow(/rrelu/);
    expect(() => new NativeEngine({ ...config, maxRows: 2 ** 20 })).toThrow(/max_rows/);
  });

  it("checks every array's type and length, every label and the row count before touching memory", () => {
    const e = new NativeEngine(config);
    try {
      const { x, y } = batch(4);
      expect(e.trainBatch(x, y, 4).loss).toBeGreaterThan(0);
      expect(() => e.trainBatch(x, y, 5)).toThrow(/x must have 30 elements, has 24/);
      expect(() => e.trainBatch(x.subarray(1), y, 4)).toThrow(/x must have 24/);
      expect(() => e.trainBatch(new Float64Array(24) as unknown as Float32Array, y, 4)).toThrow(
        /Float32Array/,
      );
      expect(() => e.trainBatch(x, new Uint8Array(4) as unknown as Int32Array, 4)).toThrow(/Int32Array/);
      expect(() => e.trainBatch(x, Int32Array.of(0, 1, 3, 0), 4)).toThrow(/label 3 at row 2/);
      expect(() => e.trainBatch(x, Int32Array.of(0, 1, -1, 0), 4)).toThrow(/label -1/);
      const big = batch(9);
      expect(() => e.trainBatch(big.x, big.y, 9)).toThrow(/rows must be in 1..8/);
      expect(() => e.trainBatch(x, y, 0)).toThrow(/rows must be at least 1/);
      expect(() => e.trainBatch(x, y, 4, new Uint32Array(3))).toThrow(/one seed per hidden layer/);
      expect(() =>
        e.setState(new Float32Array(3), { iterations: 0, accBeta1: 0.9, accBeta2: 0.999 }),
      ).toThrow(/state must have/);
      expect(() => e.probe(x, y, 4)).not.toThrow();
      // A large evaluation is chunked by maxRows, not refused.
      const many = batch(50);
      expect(e.evaluate(many.x, many.y, 50).correct).toBeGreaterThanOrEqual(0);
    } finally {
      e.dispose();
    }
    expect(() => e.trainBatch(batch(1).x, batch(1).y, 1)).toThrow(/disposed/);
    e.dispose(); // twice is harmless
  });

  it("rrelu insists on its seeds", () => {
    const e = new NativeEngine({ ...config, activationId: 5, p0: 0.1, p1: 0.3 });
    try {
      const { x, y } = batch(2);
      expect(() => e.trainBatch(x, y, 2)).toThrow(/rrelu needs one seed per hidden layer/);
      expect(e.trainBatch(x, y, 2, Uint32Array.of(1, 2)).loss).toBeGreaterThan(0);
    } finally {
      e.dispose();
    }
  });

  it("1,000 tiny runs leave resident memory flat (each engine frees its memory)", () => {
    const big = { ...config, inputSize: 784, units: 200, hiddenLayers: 4, classes: 10, maxRows: 100 };
    const x = new Float32Array(784).fill(0.5);
    const y = new Int32Array(1);
    const runOnce = () => {
      const e = new NativeEngine(big); // ~2.9 MB of state and ~1 MB of scratch each
      e.trainBatch(x, y, 1);
      e.dispose();
    };
    for (let i = 0; i < 100; i++) runOnce();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 1000; i++) runOnce();
    const grownMb = (process.memoryUsage().rss - before) / 2 ** 20;
    // Without dispose this would be ~4 GB; allow the allocator its slack.
    expect(grownMb).toBeLessThan(32);
  });

  it("loads and trains in worker threads (context-aware module)", async () => {
    const code = `
      const { parentPort } = require("node:worker_threads");
      const n = require(${JSON.stringify(DEFAULT_ADDON_PATH)});
      const e = n.create({ inputSize: 2, units: 3, hiddenLayers: 1, classes: 2, maxRows: 2, activation: 1, optimizer: 0,
        p0: 0, p1: 0, learningRate: 0.1, momentum: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
      const [, size] = n.sizes(e);
      n.setState(e, new Float32Array(size).fill(0.1), new Float64Array([0, 0.9, 0.999]));
      const out = new Float64Array(2);
      n.trainBatch(e, Float32Array.of(1, 2, 3, 4), Int32Array.of(0, 1), 2, null, out);
      n.dispose(e);
      parentPort.postMessage(out[0]);`;
    const losses = await Promise.all(
      [1, 2].map(
        () =>
          new Promise<number>((resolve, reject) => {
            const w = new Worker(code, { eval: true });
            w.once("message", (m: number) => {
              resolve(m);
              void w.terminate();
            });
            w.once("error", reject);
          }),
      ),
    );
    expect(losses[0]).toBeCloseTo(Math.log(2), 5);
    expect(losses[1]).toBe(losses[0]);
  });
});
