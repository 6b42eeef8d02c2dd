import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { scenario } from "../support/results.js";
import {
  readProbe,
  type Stack,
  sleep,
  startStack,
  TERMINAL,
  tinyExperiment,
  waitFor,
} from "../support/stack.js";

// Soak (only with SOAK_MINUTES=n): one tiny experiment every SOAK_INTERVAL_MS (2 s) for n minutes,
// trained by 2 workers; every minute prints the API's and each worker's RSS and the workers'
// tensor count, and writes them to <logDir>/memory.csv for plotting. Passes when everything
// submitted succeeded and memory stayed flat (last minute within 25 % of the second).

const MINUTES = Number(process.env.SOAK_MINUTES ?? 0);
const INTERVAL_MS = Number(process.env.SOAK_INTERVAL_MS ?? 2_000);

let stack: Stack | undefined;
afterAll(async () => stack?.stop());

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

describe("soak", () => {
  it(
    `${MINUTES} minutes of steady submissions keep memory flat`,
    async () => {
      await scenario(`soak (${MINUTES} min)`, async () => {
        expect(MINUTES).toBeGreaterThan(0);
        stack = await startStack({ label: "soak", workers: 2, probe: true });
        const s = stack;
        const rows: Array<{
          minute: number;
          api: number;
          workers: number[];
          tensors: number[];
          /** Per worker: heap after the latest major GC of the main thread and of the training thread. */
          heaps: Array<[number, number]>;
          done: number;
          submitted: number;
        }> = [];
        const ids: string[] = [];
        const started = Date.now();
        let nextReport = started + 60_000;
        let i = 0;
        /** memory.csv, rewritten every minute so a soak that stops early still leaves its samples. */
        const writeCsv = () =>
          writeFileSync(
            `${s.logDir}/memory.csv`,
            `minute,api_rss,${s.workers.map((_, k) => `worker${k + 1}_rss,worker${k + 1}_tensors,worker${k + 1}_main_heap_after_gc,worker${k + 1}_thread_heap_after_gc`).join(",")},done,submitted\n` +
              rows
                .map((r) =>
                  [
                    r.minute,
                    r.api,
                    ...r.workers.flatMap((w, k) => [w, r.tensors[k], ...r.heaps[k]!]),
                    r.done,
                    r.submitted,
                  ].join(","),
                )
                .join("\n"),
          );
        /** One row: RSS now, and each worker's idle tensor floor during the last minute. */
        const report = async () => {
          const probe = readProbe(s.probeFile).filter((x) => x.t > Date.now() - 60_000);
          const workers = s.workers.map((w) => rssOf(w.pid));
          // The idle floor: the fewest live tensors seen in the minute (0 between runs). A leak
          // raises the floor; the peak while training depends on when the 1 s samples fall.
          const tensors = s.workers.map((w) => {
            const seen = probe
              .filter((x) => x.pid === w.pid && !x.main && x.tensors !== null)
              .map((x) => x.tensors!);
            return seen.length ? Math.min(...seen) : 0;
          });
          // Heap after the latest major GC (what a leak raises; RSS also holds free heap headroom).
          const heaps = s.workers.map((w): [number, number] => {
            const last = (main: boolean) =>
              probe.filter((x) => x.pid === w.pid && x.main === main && x.heapAfterGc).at(-1)?.heapAfterGc ??
              Number.NaN;
            return [last(true), last(false)];
          });
          const done = await s.db.experiment.count({ where: { status: { in: TERMINAL as never } } });
          const row = {
            minute: rows.length + 1,
            api: rssOf(s.api.pid),
            workers,
            tensors,
            heaps,
            done,
            submitted: ids.length,
          };
          rows.push(row);
          writeCsv();
          process.stdout.write(
            `[soak] min ${row.minute}: api ${(row.api / 2 ** 20).toFixed(0)} MB, workers ${workers.map((w) => (w / 2 ** 20).toFixed(0)).join("/")} MB, ` +
              `heap after GC (main/thread) ${heaps.map(([m, t]) => `${(m / 2 ** 20).toFixed(0)}/${(t / 2 ** 20).toFixed(0)}`).join(", ")} MB, ` +
              `idle tensors ${tensors.join("/")}, ${done}/${ids.length} done\n`,
          );
        };
        let retried = 0;
        const submit = (k: number) =>
          s.http("POST", "/v1/experiments", {
            headers: { "idempotency-key": `soak-${k}` },
            body: tinyExperiment(`soak ${k}`, {
              training: { epochs: 1, batchSize: 20, seed: k, repeats: 1 },
            }),
            timeoutMs: 60_000,
          });
        while (Date.now() - started < MINUTES * 60_000) {
          // As a client should: on 503/429 wait Retry-After and retry with the same Idempotency-Key.
          let r = await submit(i);
          for (let attempt = 2; (r.status === 503 || r.status === 429) && attempt <= 10; attempt++) {
            retried++;
            await sleep(Math.min(10, Number(r.headers.get("retry-after") ?? 1)) * 1000);
            r = await submit(i);
          }
          expect(r.status).toBe(202);
          ids.push(r.json().id);
          i++;
          if (Date.now() >= nextReport) {
            nextReport += 60_000;
            await report();
          }
          await sleep(INTERVAL_MS);
        }
        if (rows.length < MINUTES) await report();
        await waitFor(
          async () => (await s.db.experiment.count({ where: { status: "succeeded" } })) === ids.length,
          { timeoutMs: 300_000, intervalMs: 1_000, what: "every soak experiment to succeed" },
        );
        const base = rows[Math.min(1, rows.length - 1)]!;
        const last = rows.at(-1)!;
        expect(last.api / base.api).toBeLessThan(1.25);
        for (const [k, w] of last.workers.entries()) {
          expect(w / base.workers[k]!).toBeLessThan(1.25);
          expect(last.tensors[k]!).toBeLessThanOrEqual(base.tensors[k]! + 2);
        }
        const f = (b: number) => `${(b / 2 ** 20).toFixed(0)}`;
        return {
          figure:
            `${ids.length} experiments over ${MINUTES} min (${retried} submissions retried after 503/429), all succeeded; RSS min 2→${rows.length}: API ${f(base.api)}→${f(last.api)} MB, ` +
            `workers ${base.workers.map(f).join("/")}→${last.workers.map(f).join("/")} MB (heap after GC, main/training thread: ` +
            `${base.heaps.map(([m, t], k) => `${f(m)}/${f(t)}→${f(last.heaps[k]![0])}/${f(last.heaps[k]![1])}`).join(", ")} MB), idle tensors ${base.tensors.join("/")}→${last.tensors.join("/")} (memory.csv in ${s.logDir})`,
        };
      });
    },
    MINUTES * 60_000 + 600_000,
  ); // the suite's 10-minute test timeout is too short for a soak
});
