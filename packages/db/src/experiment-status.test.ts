import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../tests/support/index.js";
import { eventsSince, recordEvent } from "./events.js";
import { refreshExperimentStatus } from "./experiment-status.js";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase("status");
});
afterAll(async () => {
  await t.drop();
});

async function experimentWithRuns(n: number) {
  const tenant = await t.db.tenant.create({ data: { name: `tenant-${Math.random()}` } });
  return t.db.experiment.create({
    data: {
      tenantId: tenant.id,
      name: "x",
      spec: {},
      runs: {
        create: Array.from({ length: n }, (_, i) => ({
          variantIndex: i,
          variant: { activation: "relu" },
          repeat: 0,
          seed: 1,
          device: "cpu",
          epochs: 1,
        })),
      },
    },
    include: { runs: true },
  });
}

describe("refreshExperimentStatus", () => {
  it("follows the runs and announces the end exactly once under concurrency", async () => {
    const exp = await experimentWithRuns(8);
    await t.db.run.updateMany({ where: { experimentId: exp.id }, data: { status: "running" } });
    expect((await refreshExperimentStatus(t.db, exp.id))?.status).toBe("running");
    const started = await t.db.experiment.findUniqueOrThrow({ where: { id: exp.id } });
    expect(started.startedAt).toBeInstanceOf(Date);

    // Eight workers finish their runs at the same moment; exactly one sees the experiment end.
    const results = await Promise.all(
      exp.runs.map(async (run, i) => {
        await t.db.run.update({ where: { id: run.id }, data: { status: i === 0 ? "failed" : "succeeded" } });
        return refreshExperimentStatus(t.db, exp.id);
      }),
    );
    expect(results.filter((r) => r?.finishedNow).length).toBe(1);
    const done = await t.db.experiment.findUniqueOrThrow({ where: { id: exp.id } });
    expect(done.status).toBe("partial");
    expect(done.finishedAt).toBeInstanceOf(Date);
  });

  it("returns null for an unknown experiment", async () => {
    expect(await refreshExperimentStatus(t.db, "00000000-0000-0000-0000-000000000000")).toBeNull();
  });
});

describe("events", () => {
  it("replay after an id, oldest first, ids increasing", async () => {
    const exp = await experimentWithRuns(1);
    const runId = exp.runs[0]!.id;
    const a = await recordEvent(t.db, exp.id, {
      type: "run.canceled",
      data: { experimentId: exp.id, runId },
    });
    const b = await recordEvent(t.db, exp.id, {
      type: "experiment.finished",
      data: { experimentId: exp.id, status: "canceled" },
    });
    expect(BigInt(b.id)).toBeGreaterThan(BigInt(a.id));
    expect((await eventsSince(t.db, exp.id, null)).map((e) => e.id)).toEqual([a.id, b.id]);
    expect(await eventsSince(t.db, exp.id, a.id)).toEqual([b]);
  });
});
