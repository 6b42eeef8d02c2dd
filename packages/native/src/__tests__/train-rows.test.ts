import { describe, expect, it } from "vitest";
import { type EngineConfig, NativeEngine } from "../index.js";
import { requireAddon, withSeededEngine } from "./support.js";

/**
 * trainRows builds each batch from the engine's sparse copy of the training set (setData); it
 * must be the very step trainBatch takes on the same rows gathered densely — bit for bit, for
 * batches the engine compacts (most columns zero) and batches it does not (dense rows).
 */
const INPUT = 30;
const ROWS = 60;
const BATCH = 12;

function config(optimizer: EngineConfig["optimizer"], activationId: number): EngineConfig {
  return {
    inputSize: INPUT,
    units: 10,
    hiddenLayers: 2,
    classes: 3,
    maxRows: BATCH,
    activationId,
    optimizer,
    learningRate: 0.05,
    momentum: 0.9,
  };
}

/** 60 rows: the first 40 are zero outside columns 5..14 (compacted batches), the rest dense. */
function dataset() {
  const x = new Float32Array(ROWS * INPUT);
  for (let r = 0; r < ROWS; r++)
    for (let j = 0; j < INPUT; j++) {
      const live = r >= 40 || (j >= 5 && j < 15);
      x[r * INPUT + j] = live ? Math.sin(r * 1.7 + j * 0.31) : 0;
    }
  const y = Int32Array.from({ length: ROWS }, (_, r) => (r * 7) % 3);
  return { x, y };
}

/** Batches of row indices: shuffled compacted rows, then dense ones, then a short mixed batch. */
const BATCHES = [
  Uint32Array.of(3, 17, 0, 39, 22, 8, 11, 30, 5, 26, 14, 1),
  Uint32Array.of(41, 59, 44, 50, 47, 58, 40, 53, 42, 56, 45, 49),
  Uint32Array.of(2, 52, 19, 33, 7),
];

function run(optimizer: EngineConfig["optimizer"], activationId: number, indexed: boolean) {
  return withSeededEngine(config(optimizer, activationId), (e) => {
    const { x, y } = dataset();
    if (indexed) e.setData(x, y, ROWS);
    const seeds = activationId === 5 ? Uint32Array.of(7, 9) : null;
    const steps: Array<{ loss: number; correct: number }> = [];
    for (let epoch = 0; epoch < 3; epoch++)
      for (const rows of BATCHES) {
        if (indexed) {
          steps.push(e.trainRows(rows, seeds));
        } else {
          const bx = new Float32Array(rows.length * INPUT);
          const by = new Int32Array(rows.length);
          rows.forEach((r, i) => {
            bx.set(x.subarray(r * INPUT, (r + 1) * INPUT), i * INPUT);
            by[i] = y[r]!;
          });
          steps.push(e.trainBatch(bx, by, rows.length, seeds));
        }
      }
    return { steps, state: e.getState().state.slice() };
  });
}

requireAddon();

describe("trainRows: steps on rows of the engine's copy of the training set", () => {
  for (const [optimizer, activationId, name] of [
    ["sgd", 2, "relu"],
    ["sgd", 4, "prelu"],
    ["sgd", 5, "rrelu"],
    ["momentum", 1, "tanh"],
    ["adam", 0, "sigmoid"],
  ] as const) {
    it(`${name} × ${optimizer}: the same losses, counts and weights as trainBatch on the gathered rows, bit for bit`, () => {
      const gathered = run(optimizer, activationId, false);
      const indexed = run(optimizer, activationId, true);
      expect(indexed.steps).toEqual(gathered.steps);
      expect(indexed.state).toEqual(gathered.state);
      // it learns: the first batch's loss in the third epoch is below its loss in the first
      expect(gathered.steps[2 * BATCHES.length]!.loss).toBeLessThan(gathered.steps[0]!.loss);
    });
  }

  it("refuses rows outside the training set, a step before setData and bad arguments", () => {
    const e = new NativeEngine(config("sgd", 2));
    try {
      expect(() => e.trainRows(Uint32Array.of(0))).toThrow(/no training set: call setData first/);
      const { x, y } = dataset();
      e.setData(x, y, ROWS);
      expect(() => e.trainRows(Uint32Array.of(0, ROWS))).toThrow(
        /row index 60 at 1 is outside the training set's 60 rows/,
      );
      expect(() => e.trainRows(new Uint32Array(BATCH + 1))).toThrow(/rows must be in 1\.\.12/);
      expect(() => e.trainRows(new Uint32Array(0))).toThrow(/count must be at least 1/);
      expect(() => e.trainRows(Int32Array.of(1) as unknown as Uint32Array)).toThrow(/Uint32Array/);
      expect(() =>
        e.setData(
          x,
          Int32Array.from(y, (v) => v + 1),
          ROWS,
        ),
      ).toThrow(/label 3 at row/);
      expect(() => e.setData(x.subarray(1), y, ROWS)).toThrow(/x must have 1800 elements/);
      // the engine still trains on its earlier copy after the refused calls
      expect(e.trainRows(Uint32Array.of(0, 1)).loss).toBeGreaterThan(0);
    } finally {
      e.dispose();
    }
  });
});
