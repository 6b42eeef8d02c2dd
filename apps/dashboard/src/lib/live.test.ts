import type { TEpochMetrics, TExperiment, TMetricsResponse } from "@actlab/contracts";
import { ZExperimentSpec } from "@actlab/contracts";
import { describe, expect, it } from "vitest";
import { applyEventToExperiment, applyEventToMetrics, parseEvent, upsertEpoch } from "./live.js";

const m = (epoch: number, acc: number): TEpochMetrics => ({
  epoch,
  trainLoss: 1 / epoch,
  trainAccuracy: acc,
  testLoss: 1 / epoch,
  testAccuracy: acc,
  gradNorms: [0.1 * epoch, 1],
  deadFraction: [0],
  saturatedFraction: [0],
  preluAlphaMean: null,
  seconds: 1,
});

const spec = ZExperimentSpec.parse({
  variants: [{ activation: "relu" }],
  training: { repeats: 1, epochs: 3 },
});
const experiment: TExperiment = {
  id: "e1",
  name: "t",
  status: "queued",
  createdAt: "2026-01-01T00:00:00Z",
  startedAt: null,
  finishedAt: null,
  spec,
  runs: [
    {
      id: "r1",
      experimentId: "e1",
      variant: { activation: "relu" },
      cell: {},
      repeat: 0,
      seed: 1,
      status: "queued",
      stoppedEarly: false,
      device: "cpu",
      backend: null,
      attempts: 0,
      resumedFromEpoch: null,
      progress: { epoch: 0, epochs: 3 },
      testAccuracy: null,
      testLoss: null,
      seconds: null,
      error: null,
      provenance: null,
      updatedAt: "2026-01-01T00:00:00Z",
      stale: false,
    },
  ],
  summary: [],
  comparisons: [],
  links: {},
};

describe("upsertEpoch", () => {
  it("inserts in order and replaces a re-sent epoch instead of duplicating it", () => {
    let s = upsertEpoch({ epoch: [] }, m(2, 0.5));
    s = upsertEpoch(s, m(1, 0.4));
    s = upsertEpoch(s, m(2, 0.6));
    expect(s.epoch).toEqual([1, 2]);
    expect(s.testAccuracy).toEqual([0.4, 0.6]);
    expect(s.gradNorms).toEqual([
      [0.1, 1],
      [0.2, 1],
    ]);
    expect(s.preluAlphaMean).toBeUndefined();
  });
});

describe("parseEvent", () => {
  const data = { experimentId: "e1", runId: "r1", epochs: 3, metrics: m(1, 0.5) };
  it("accepts the bare payload or a {type, data} envelope", () => {
    expect(parseEvent("run.epoch", JSON.stringify(data))?.type).toBe("run.epoch");
    expect(parseEvent("run.epoch", JSON.stringify({ type: "run.epoch", data }))?.type).toBe("run.epoch");
  });
  it("ignores unknown names, bad JSON and payloads of the wrong shape", () => {
    expect(parseEvent("ping", "{}")).toBeNull();
    expect(parseEvent("run.epoch", "{nope")).toBeNull();
    expect(parseEvent("run.epoch", JSON.stringify({ runId: "r1" }))).toBeNull();
  });
});

describe("applying events", () => {
  it("adds a run's first epoch to the metrics and moves its progress", () => {
    const ev = parseEvent(
      "run.epoch",
      JSON.stringify({ experimentId: "e1", runId: "r1", epochs: 3, metrics: m(1, 0.5) }),
    )!;
    const metrics = applyEventToMetrics({ runs: [] } satisfies TMetricsResponse, experiment, ev)!;
    expect(metrics.runs[0]?.series.testAccuracy).toEqual([0.5]);
    const exp = applyEventToExperiment(experiment, ev)!;
    expect(exp.runs[0]?.progress).toEqual({ epoch: 1, epochs: 3 });
    expect(exp.status).toBe("running");
  });

  it("marks a finished run and derives the experiment's status", () => {
    const ev = parseEvent(
      "run.finished",
      JSON.stringify({ experimentId: "e1", runId: "r1", testAccuracy: 0.9, testLoss: 0.3, seconds: 4 }),
    )!;
    const exp = applyEventToExperiment(experiment, ev)!;
    expect(exp.runs[0]).toMatchObject({
      status: "succeeded",
      testAccuracy: 0.9,
      progress: { epoch: 3, epochs: 3 },
    });
    expect(exp.status).toBe("succeeded");
  });
});
