// The whole path a user's experiment travels: POST /v1/experiments → Postgres rows + BullMQ
// jobs → a real worker process trains them → GET /v1/experiments/:id shows it succeeded with
// its metrics. Real Postgres, real Redis, a real worker process; nothing mocked.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, type TestApi } from "../../apps/api/src/__tests__/helpers.js";
import { waitFor } from "../../apps/worker/src/__tests__/helpers.js";
import { smallRequest } from "../support/fixtures.js";
import { type ApiWithWorker, startApiWithWorker } from "./stack.js";

let stack: ApiWithWorker;
let api: TestApi;

beforeAll(async () => {
  stack = await startApiWithWorker("skeleton");
  api = stack.api;
});

afterAll(async () => stack?.close());

describe("walking skeleton", () => {
  it("trains a submitted experiment to succeeded, with per-epoch metrics and final accuracy", async () => {
    const body = smallRequest("skeleton", {
      samples: 300,
      net: [2, 16],
      activations: ["sigmoid", "relu"],
      epochs: 3,
      batchSize: 30,
      learningRate: 0.1,
    });
    const created = await api.app.inject({
      method: "POST",
      url: "/v1/experiments",
      headers: bearer(api.keyA),
      payload: body,
    });
    expect(created.statusCode).toBe(202);
    const { id, runs, status } = created.json();
    expect(status).toBe("queued");
    expect(runs).toHaveLength(2);

    const done = await waitFor(
      async () => {
        const r = await api.app.inject({ url: `/v1/experiments/${id}`, headers: bearer(api.keyA) });
        const e = r.json();
        return ["succeeded", "failed", "partial", "canceled"].includes(e.status) ? e : null;
      },
      { timeoutMs: 90_000, what: "the experiment to finish" },
    );
    expect(done.status).toBe("succeeded");
    for (const run of done.runs) {
      expect(run.status).toBe("succeeded");
      expect(run.progress).toEqual({ epoch: 3, epochs: 3 });
      expect(run.testAccuracy).toBeGreaterThanOrEqual(0);
      expect(run.testAccuracy).toBeLessThanOrEqual(1);
      expect(run.backend).toBe("wasm");
      expect(run.attempts).toBe(1);
      // What trained it: the worker's backend and its version, this checkout, this machine.
      expect(run.provenance.backend).toMatchObject({
        name: "wasm",
        version: expect.stringMatching(/^\d+\.\d+/),
      });
      expect(run.provenance.actlab.version).toBe("0.1.0");
      expect(run.provenance.node).toBe(process.version);
      expect(run.provenance.worker.id).toBeTruthy();
    }
    expect(done.summary.map((s: { variant: { activation: string } }) => s.variant.activation)).toEqual([
      "sigmoid",
      "relu",
    ]);

    const metrics = (
      await api.app.inject({ url: `/v1/experiments/${id}/metrics`, headers: bearer(api.keyA) })
    ).json();
    expect(metrics.runs).toHaveLength(2);
    for (const run of metrics.runs) {
      expect(run.series.epoch).toEqual([1, 2, 3]);
      expect(run.series.testAccuracy).toHaveLength(3);
      // gradient norm of every layer: 2 hidden + output, input side first
      expect(run.series.gradNorms.every((g: number[]) => g.length === 3 && g.every((x) => x > 0))).toBe(true);
    }

    const stored = await api.database.db.experimentEvent.findMany({
      where: { experimentId: id },
      orderBy: { id: "asc" },
    });
    const types = stored.map((e) => e.type);
    expect(types.filter((t) => t === "run.started")).toHaveLength(2);
    // Live epoch events are coalesced (the latest wins within LIVE_EVENT_INTERVAL_MS); each run's
    // last epoch is always announced. The metrics above hold every epoch.
    const epochEvents = stored.filter((e) => e.type === "run.epoch");
    expect(epochEvents.length).toBeGreaterThanOrEqual(2);
    expect(epochEvents.length).toBeLessThanOrEqual(6);
    for (const run of metrics.runs) {
      expect(
        epochEvents.some((e) => {
          const d = e.data as { runId: string; metrics: { epoch: number } };
          return d.runId === run.id && d.metrics.epoch === 3;
        }),
      ).toBe(true);
    }
    expect(types.filter((t) => t === "run.finished")).toHaveLength(2);
    expect(types.at(-1)).toBe("experiment.finished");
  });
});
