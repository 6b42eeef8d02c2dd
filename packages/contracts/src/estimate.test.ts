import { describe, expect, it } from "vitest";
import {
  epochWork,
  estimateSpec,
  makespan,
  NEAREST_SAMPLES,
  networkWeights,
  remainingSeconds,
  runWorks,
  secondsPerWork,
} from "./estimate.js";
import { ZExperimentSpec } from "./spec.js";

const spec = (over: object = {}) =>
  ZExperimentSpec.parse({
    dataset: { samples: 1_000, testFraction: 0.2 },
    model: { hiddenLayers: 2, units: 10 },
    variants: [{ activation: "relu" }, { activation: "sigmoid" }],
    training: { epochs: 5, repeats: 3 },
    ...over,
  });

describe("the estimate arithmetic", () => {
  it("counts a network's weights and an epoch's work", () => {
    // 784·10 + 1·10·10 + 10·10 = 8,040 weights.
    expect(networkWeights({ hiddenLayers: 2, units: 10 })).toBe(8_040);
    expect(networkWeights({ hiddenLayers: 1, units: 200 })).toBe(784 * 200 + 200 * 10);
    // 800 training examples × 3 passes + 200 test examples × 1 = 2,600 example-passes.
    expect(epochWork(spec())).toBe(8_040 * 2_600);
  });

  it("takes the median rate of the measured runs nearest in size, ignoring runs without time or epochs", () => {
    const w = 1_000;
    expect(secondsPerWork([], w)).toBeNull();
    expect(secondsPerWork([{ seconds: 0, epochs: 3, work: w }], w)).toBeNull();
    expect(secondsPerWork([{ seconds: 6, epochs: 3, work: w }], w)).toBe(0.002);
    // A run of another size still gives a pace when it is all there is.
    expect(secondsPerWork([{ seconds: 6, epochs: 3, work: w }], 50 * w)).toBe(0.002);
    expect(
      secondsPerWork(
        [
          { seconds: 1, epochs: 1, work: w }, // 0.001
          { seconds: 90, epochs: 1, work: w }, // 0.09: one run on a busy machine
          { seconds: 4, epochs: 2, work: w }, // 0.002
          { seconds: 5, epochs: 0, work: w }, // no epoch: left out
        ],
        w,
      ),
    ).toBe(0.002);
    expect(
      secondsPerWork(
        [
          { seconds: 1, epochs: 1, work: w },
          { seconds: 3, epochs: 1, work: w },
        ],
        w,
      ),
    ).toBe(0.002);
    // Five tiny runs (slow per unit: fixed costs per epoch) and five big ones: a big run is
    // estimated from the big ones, a tiny one from the tiny ones, whatever their order.
    const tiny = Array.from({ length: 5 }, () => ({ seconds: 1, epochs: 10, work: w })); // 1e-4
    const big = Array.from({ length: 5 }, () => ({ seconds: 20, epochs: 10, work: 100 * w })); // 2e-5
    expect(secondsPerWork([...tiny, ...big], 80 * w)).toBe(2e-5);
    expect(secondsPerWork([...big, ...tiny], 2 * w)).toBe(1e-4);
    expect(NEAREST_SAMPLES).toBe(5);
  });

  it("schedules indivisible runs longest first onto the worker free soonest", () => {
    expect(makespan([], 2)).toBe(0);
    expect(makespan([10, 10, 10], 1)).toBe(30);
    expect(makespan([10, 10, 10], 2)).toBe(20);
    expect(makespan([10, 10, 10], 5)).toBe(10);
    expect(makespan([3, 3, 2, 2, 2], 2)).toBe(7); // 3+2+2 | 3+2
    expect(makespan([4], 2, [10, 1])).toBe(10); // the 4 goes to the worker free after 1
    expect(makespan([], 1, [7])).toBe(7);
    expect(makespan([5], 0)).toBe(5); // treated as one worker
  });

  it("estimates a spec: runs × epochs × scaled pace over the workers", () => {
    const s = spec();
    const work = epochWork(s);
    // Four runs measured: three at 1e-7 s per unit, one slowed 10× (the median ignores it).
    const samples = [1, 1, 10, 1].map((k) => ({ seconds: k * 1e-7 * work * 4, epochs: 4, work }));
    const perEpoch = work * 1e-7; // 2.0904 s
    const e = estimateSpec(s, { samples, workers: 2, backend: "native" });
    expect(e).toMatchObject({ runs: 6, epochs: 5, workers: 2, backend: "native", measuredRuns: 4 });
    expect(e.secondsPerEpoch).toBeCloseTo(perEpoch, 10);
    expect(e.seconds).toBeCloseTo(3 * 5 * perEpoch, 10); // 6 runs on 2 workers: 3 after another
    expect(e.note).toBe(
      "measured on native over 4 recent runs (the nearest in size to each run, scaled by network size × samples), 2 workers in parallel, runs queued ahead not counted",
    );
  });

  it("scales each cell of a sweep by its own network", () => {
    const s = spec({ sweep: { "model.hiddenLayers": [1, 3] }, training: { epochs: 2, repeats: 1 } });
    const one = epochWork({ ...s, model: { ...s.model, hiddenLayers: 1 } });
    const three = epochWork({ ...s, model: { ...s.model, hiddenLayers: 3 } });
    expect(runWorks(s)).toEqual([one, one, three, three]);
    // Measured: five 1-layer runs at 1e-7 s per unit and five 3-layer ones at 5e-8 (fixed costs
    // weigh less on the bigger network): each cell at the pace of its own size.
    const samples = [
      ...Array.from({ length: 5 }, () => ({ seconds: 1e-7 * one, epochs: 1, work: one })),
      ...Array.from({ length: 5 }, () => ({ seconds: 5e-8 * three, epochs: 1, work: three })),
    ];
    const e = estimateSpec(s, { samples, workers: 1, backend: "native" });
    expect(e.measuredRuns).toBe(10);
    expect(e.secondsPerEpoch).toBeCloseTo((one * 1e-7 + three * 5e-8) / 2, 10);
    expect(e.seconds).toBeCloseTo(2 * 2 * (one * 1e-7 + three * 5e-8), 10);
  });

  it("says so instead of guessing without a measurement or a worker", () => {
    const none = estimateSpec(spec(), { samples: [], workers: 3, backend: null });
    expect(none).toMatchObject({ runs: 6, secondsPerEpoch: null, seconds: null });
    expect(none.note).toBe("no measurement yet: no run has finished on this queue's workers");
    const measured = [{ seconds: 2, epochs: 1, work: 1e7 }];
    const idle = estimateSpec(spec(), { samples: measured, workers: 0, backend: "wasm" });
    expect(idle.secondsPerEpoch).not.toBeNull();
    expect(idle.seconds).toBeNull();
    expect(idle.note).toMatch(/no worker is connected/);
    expect(estimateSpec(spec(), { samples: measured, workers: null, backend: "wasm" }).note).toMatch(
      /number of workers is unknown/,
    );
  });

  it("gives a running experiment's remaining time from its own runs' pace", () => {
    const work = 1_000;
    // Pace 0.001 s per unit = 1 s per epoch. One run running with 6 of 10 epochs to go (4 done
    // in 4 s), two queued with 10 each, one finished: on one worker 6 + 10 + 10 = 26 s.
    const runs = [
      { status: "succeeded", epochs: 10, epochsDone: 10, work, measured: { seconds: 10, epochs: 10 } },
      { status: "running", epochs: 10, epochsDone: 4, work, measured: { seconds: 4, epochs: 4 } },
      { status: "queued", epochs: 10, epochsDone: 0, work, measured: null },
      { status: "queued", epochs: 10, epochsDone: 0, work, measured: null },
    ];
    expect(remainingSeconds(runs)).toBeCloseTo(26, 10);
    // Two running at once (two workers): 6 | 8, then the queued 10s onto the first free ones.
    const two = [
      ...runs,
      { status: "running", epochs: 10, epochsDone: 2, work, measured: { seconds: 2, epochs: 2 } },
    ];
    expect(remainingSeconds(two)).toBeCloseTo(18, 10); // 6+10 | 8+10
    expect(
      remainingSeconds([{ status: "queued", epochs: 3, epochsDone: 0, work, measured: null }]),
    ).toBeNull();
    expect(remainingSeconds(runs.slice(0, 1))).toBe(0);
  });
});
