import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { deriveRunSeed, type TExperimentSpecInput, ZExperimentSpec } from "@actlab/contracts";
import type { Db } from "@actlab/db";

export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const MAIN_TS = fileURLToPath(new URL("../main.ts", import.meta.url));

/** A tiny experiment: 300 MNIST samples, 2 hidden layers of 16 units. */
export function tinySpec(overrides: Partial<TExperimentSpecInput> = {}) {
  return ZExperimentSpec.parse({
    name: "worker test",
    dataset: { name: "mnist", samples: 300, testFraction: 0.2, seed: 1 },
    model: { hiddenLayers: 2, units: 16 },
    variants: [{ activation: "relu" }],
    training: {
      epochs: 4,
      batchSize: 20,
      seed: 7,
      repeats: 1,
      optimizer: { name: "sgd", learningRate: 0.1 },
    },
    device: "cpu",
    ...overrides,
  });
}

/** Inserts an experiment and its runs exactly as the API does (notes/LIFECYCLE.md step 1). */
export async function insertExperiment(db: Db, spec: ReturnType<typeof tinySpec>) {
  const tenant = await db.tenant.upsert({
    where: { name: "worker-tests" },
    create: { name: "worker-tests" },
    update: {},
  });
  return db.$transaction(async (tx) => {
    const experiment = await tx.experiment.create({
      data: { tenantId: tenant.id, name: spec.name, spec: spec as object, status: "queued" },
    });
    const runs = [];
    for (const [variantIndex, variant] of spec.variants.entries()) {
      for (let repeat = 0; repeat < spec.training.repeats; repeat++) {
        runs.push(
          await tx.run.create({
            data: {
              experimentId: experiment.id,
              variantIndex,
              variant: variant as object,
              repeat,
              seed: deriveRunSeed(spec.training.seed, repeat),
              epochs: spec.training.epochs,
              device: spec.device,
              status: "queued",
            },
          }),
        );
      }
    }
    return { experiment, runs };
  });
}

export interface LogLine {
  msg: string;
  level: number;
  [key: string]: unknown;
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  logs: LogLine[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  kill(signal?: NodeJS.Signals): void;
}

/** Spawns a real worker process from source. */
export function spawnWorker({
  env,
  args = [],
}: {
  env: Record<string, string>;
  args?: string[];
}): WorkerProcess {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", MAIN_TS, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: LogLine[] = [];
  const stderr: string[] = [];
  const waiters: Array<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    let parsed: LogLine;
    try {
      parsed = JSON.parse(line) as LogLine;
    } catch {
      parsed = { msg: line, level: 30 };
    }
    logs.push(parsed);
    for (const w of [...waiters]) {
      if (w.pred(parsed)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(parsed);
      }
    }
  });
  createInterface({ input: child.stderr! }).on("line", (line) => stderr.push(line));
  const exited = once(child, "exit").then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return {
    child,
    pid: child.pid!,
    logs,
    stderr,
    exited,
    waitForLog(pred, timeoutMs = 60_000) {
      const found = logs.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new Error(
              `log line not seen within ${timeoutMs} ms; last lines:\n${logs
                .slice(-15)
                .map((l) => JSON.stringify(l))
                .join("\n")}\nstderr:\n${stderr.slice(-15).join("\n")}`,
            ),
          );
        }, timeoutMs);
        const w = {
          pred,
          resolve: (l: LogLine) => {
            clearTimeout(timer);
            resolve(l);
          },
        };
        waiters.push(w);
        void exited.then(() => {
          if (waiters.includes(w)) {
            clearTimeout(timer);
            reject(new Error(`worker exited before the log line; stderr:\n${stderr.join("\n")}`));
          }
        });
      });
    },
    kill(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

export async function waitFor<T>(
  fn: () => Promise<T | null | undefined | false>,
  { timeoutMs = 60_000, intervalMs = 200, what = "condition" } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
