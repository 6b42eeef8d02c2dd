import { afterAll, describe, expect, it } from "vitest";
import { scenario } from "../support/results.js";
import { type Proc, type Stack, startStack, TERMINAL } from "../support/stack.js";

// Crash: SIGKILL a worker in the middle of a run, ten times across one experiment, always with
// a replacement started (as a supervisor would). Every run must succeed, every epoch be stored
// exactly once, and the numbers equal those of an undisturbed experiment with the same seeds.

const KILLS = 10;
const EPOCHS = 14;
const spec = (name: string) => ({
  name,
  dataset: { name: "mnist", samples: 500, testFraction: 0.2, seed: 3 },
  model: { hiddenLayers: 2, units: 16 },
  variants: [{ activation: "relu" }, { activation: "tanh" }, { activation: "elu", alpha: 1 }],
  training: {
    epochs: EPOCHS,
    batchSize: 5,
    seed: 11,
    repeats: 2,
    optimizer: { name: "adam", learningRate: 0.001 },
  },
  device: "cpu",
});

let stack: Stack | undefined;
afterAll(async () => stack?.stop());

async function results(s: Stack, id: string) {
  const runs = await s.db.run.findMany({
    where: { experimentId: id },
    orderBy: [{ variantIndex: "asc" }, { repeat: "asc" }],
    include: { metrics: { orderBy: { epoch: "asc" } } },
  });
  return runs;
}

describe("crash: kill -9 workers mid-run", () => {
  it(`${KILLS} SIGKILLs across an experiment lose nothing and change no number`, async () => {
    await scenario("crash (kill -9 ×10)", async () => {
      stack = await startStack({ label: "crash", workers: 2, fastRecovery: true });
      const s = stack;

      // The reference: the same spec, undisturbed.
      const ref = await s.http("POST", "/v1/experiments", { body: spec("reference") });
      expect(ref.status).toBe(202);
      await s.finished(ref.json().id, { timeoutMs: 300_000 });

      const res = await s.http("POST", "/v1/experiments", { body: spec("disturbed") });
      expect(res.status).toBe(202);
      const id: string = res.json().id;
      const runIds = new Set<string>(res.json().runs.map((r: { id: string }) => r.id));

      const kills: Array<{ runId: string; epoch: number; at: number; worker: string }> = [];
      const seen = new Map<Proc, number>();
      while (kills.length < KILLS) {
        const e = await s.db.experiment.findUniqueOrThrow({ where: { id } });
        if (TERMINAL.includes(e.status)) break;
        // The next epoch stored mid-run (not the last one) by a live worker, after the last kill.
        const live = s.workers.filter((w) => w.alive());
        const victim = await Promise.race(
          live.map((w) =>
            w
              .waitForLog(
                (l) =>
                  l.msg === "epoch stored" && runIds.has(l.runId as string) && (l.epoch as number) < EPOCHS,
                120_000,
                seen.get(w) ?? w.logs.length,
              )
              .then((line) => ({ w, line })),
          ),
        );
        // Only a run that is still this worker's: not finished, no other run begun since that line.
        const later = victim.w.logs.slice(victim.w.logs.indexOf(victim.line) + 1);
        if (later.some((l) => l.msg === "run succeeded" || l.msg === "run started")) {
          for (const w of live) seen.set(w, w.logs.length);
          continue;
        }
        victim.w.kill("SIGKILL");
        await victim.w.exited;
        kills.push({
          runId: victim.line.runId as string,
          epoch: victim.line.epoch as number,
          at: Date.now(),
          worker: victim.w.name,
        });
        s.workers.splice(s.workers.indexOf(victim.w), 1);
        await s.startWorker(); // a supervisor restarts it
        // Lines logged while the replacement started are stale: wait for fresh ones.
        for (const w of s.workers) seen.set(w, w.logs.length);
      }
      expect(kills.length).toBe(KILLS);
      const done = await s.finished(id, { timeoutMs: 300_000 });
      expect(done.status).toBe("succeeded");

      const [a, b] = [await results(s, ref.json().id), await results(s, id)];
      expect(b.length).toBe(6);
      let epochsStored = 0;
      let maxDiff = 0;
      for (const [i, run] of b.entries()) {
        expect(run.status).toBe("succeeded");
        expect(run.metrics.map((m) => m.epoch)).toEqual(Array.from({ length: EPOCHS }, (_, k) => k + 1));
        epochsStored += run.metrics.length;
        const r = a[i]!;
        expect([run.variantIndex, run.repeat, run.seed]).toEqual([r.variantIndex, r.repeat, r.seed]);
        maxDiff = Math.max(
          maxDiff,
          Math.abs(run.testAccuracy! - r.testAccuracy!),
          Math.abs(run.testLoss! - r.testLoss!),
          ...run.metrics.map((m, k) => Math.abs(m.trainLoss - r.metrics[k]!.trainLoss)),
        );
      }
      expect(maxDiff).toBe(0);
      // No run.epoch event stored twice for one (run, epoch).
      const events = await s.db.experimentEvent.findMany({ where: { experimentId: id, type: "run.epoch" } });
      const keys = events.map((ev) => {
        const d = ev.data as { runId: string; metrics?: { epoch: number }; epoch?: number };
        return `${d.runId}:${d.metrics?.epoch ?? d.epoch}`;
      });
      const duplicateEvents = keys.length - new Set(keys).size;
      expect(duplicateEvents).toBe(0);

      // Time from each kill to the run starting again on a live worker.
      const starts = s.all.flatMap((p) => p.logs.filter((l) => l.msg === "run started"));
      const recovery = kills.map((k) => {
        const next = starts
          .map((l) => ({ runId: l.runId as string, t: Date.parse(l.time as string) }))
          .filter((l) => l.runId === k.runId && l.t >= k.at - 50)
          .sort((x, y) => x.t - y.t)[0];
        return next ? (next.t - k.at) / 1000 : Number.NaN;
      });
      expect(
        recovery.every((r) => Number.isFinite(r) && r < 60),
        JSON.stringify({ kills, recovery }),
      ).toBe(true);
      const attempts = b.reduce((n, r) => n + r.attempts, 0);
      return {
        figure:
          `${kills.length} kills, ${b.length}/${b.length} runs succeeded, ${epochsStored}/${b.length * EPOCHS} epochs ` +
          `stored once, max |Δ| vs undisturbed = ${maxDiff}, resumed after ≤ ${Math.max(...recovery).toFixed(1)} s ` +
          `(median ${recovery.sort((x, y) => x - y)[Math.floor(recovery.length / 2)]!.toFixed(1)} s), ${attempts} starts for 6 runs`,
        details: {
          kills,
          recovery,
          attempts,
          eventsStored: events.length,
          missingEpochEvents: b.length * EPOCHS - new Set(keys).size,
        },
      };
    });
  });
});
