import { describe, expect, it } from "vitest";
import type { EngineConfig } from "../index.js";
import { requireAddon, withSeededEngine } from "./support.js";

/**
 * The engine runs the first layer on the columns (pixels) that are nonzero in some row of the
 * batch when at most 85% are (engine_cpu.cc, compact_input). The same batch with its zero
 * columns set to 1e-30 instead — a value too small to change any sum, but nonzero, so nothing is
 * compacted — must train the same: the compacted path is the full product minus zeros.
 */
const config: EngineConfig = {
  inputSize: 40,
  units: 16,
  hiddenLayers: 2,
  classes: 4,
  maxRows: 20,
  activationId: 1, // tanh
  optimizer: "momentum",
  learningRate: 0.05,
  momentum: 0.9,
};
const ROWS = 20;
const LIVE = 24; // columns 24..39 are zero in every row: 60% active, so the batch is compacted

function batch(fill: number) {
  const x = Float32Array.from({ length: ROWS * config.inputSize }, (_, i) =>
    i % config.inputSize < LIVE ? Math.sin(i * 0.37) : fill,
  );
  const y = Int32Array.from({ length: ROWS }, (_, i) => (i * 3) % config.classes);
  return { x, y };
}

function train(fill: number) {
  return withSeededEngine(config, (e) => {
    const init = e.getState().state.slice();
    const { x, y } = batch(fill);
    const losses = Array.from({ length: 10 }, () => e.trainBatch(x, y, ROWS).loss);
    const evaluated = e.evaluate(x, y, ROWS);
    const probe = e.probe(x, y, ROWS);
    return { init, losses, evaluated, gradNorms: probe.gradNorms, state: e.getState().state.slice() };
  });
}

requireAddon();

describe("the first layer on a batch's nonzero columns", () => {
  it("trains, evaluates and probes as the full product does", () => {
    const compacted = train(0);
    const full = train(1e-30);
    compacted.losses.forEach((l, i) => {
      expect(Math.abs(l - full.losses[i]!)).toBeLessThan(1e-6);
    });
    expect(compacted.losses[9]).toBeLessThan(compacted.losses[0]!); // it does learn
    expect(Math.abs(compacted.evaluated.lossSum - full.evaluated.lossSum)).toBeLessThan(1e-5);
    expect(compacted.evaluated.correct).toBe(full.evaluated.correct);
    compacted.gradNorms.forEach((g, i) => {
      expect(Math.abs(g - full.gradNorms[i]!)).toBeLessThan(1e-6 * Math.max(1, g));
    });
    let worst = 0;
    for (let i = 0; i < compacted.state.length; i++)
      worst = Math.max(worst, Math.abs(compacted.state[i]! - full.state[i]!));
    expect(worst).toBeLessThan(1e-6);
  });

  it("leaves the weights of the always-zero columns exactly as they were (their gradient is 0)", () => {
    const { init, state } = train(0);
    const U = config.units;
    for (let j = LIVE; j < config.inputSize; j++)
      expect(Array.from(state.subarray(j * U, (j + 1) * U))).toEqual(
        Array.from(init.subarray(j * U, (j + 1) * U)),
      );
    // …while the live columns' weights moved.
    expect(Array.from(state.subarray(0, U))).not.toEqual(Array.from(init.subarray(0, U)));
  });
});
