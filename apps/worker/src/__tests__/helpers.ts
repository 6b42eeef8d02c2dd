import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { LIMITS, type TExperimentSpecInput, ZExperimentSpec } from "@actlab/contracts";
import { insertExperiment as createExperimentRows, type Db, planExperiment } from "@actlab/db";
import { type LogLine, parseLogLine, TEST_REDIS_URL } from "../../../../tests/support/index.js";

export { waitFor } from "../../../../tests/support/index.js";
export type { LogLine };

export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const MAIN_TS = fileURLToPath(new URL("../main.ts", import.meta.url));

const TINY_TRAINING = {
  epochs: 4,
  batchSize: 20,
  seed: 7,
  repeats: 1,
  optimizer: { name: "sgd", learningRate: 0.1 },
} as const;

/**
 * A tiny experiment: 300 MNIST samples, 2 hidden layers of 16 units, 4 epochs of SGD. Each
 * override replaces its part of the spec; `training` is merged (give only what differs).
 */
export function tinySpec(overrides: Partial<TExperimentSpecInput> = {}) {
  return ZExperimentSpec.parse({
    name: "worker test",
    dataset: { name: "mnist", samples: 300, testFraction: 0.2, seed: 1 },
    model: { hiddenLayers: 2, units: 16 },
    variants: [{ activation: "relu" }],
    device: "cpu",
    ...overrides,
    training: { ...TINY_TRAINING, ...overrides.training },
  });
}

/**
 * The training of a test run: `epochs` of SGD (at learning rate 0.05 unless told) in batches of
 * `batchSize`, 1 repeat unless told, for tinySpec({ training: … }).
 */
export function sgdTraining({
  epochs,
  batchSize,
  seed,
  repeats = 1,
  learningRate = 0.05,
}: {
  epochs: number;
  batchSize: number;
  seed: number;
  repeats?: number;
  learningRate?: number;
}) {
  return { epochs, batchSize, seed, repeats, optimizer: { name: "sgd", learningRate } } as const;
}

/** Inserts an experiment and its queued runs through the lifecycle's creation, as the API does. */
export async function insertExperiment(db: Db, spec: ReturnType<typeof tinySpec>) {
  const tenant = await db.tenant.upsert({
    where: { name: "worker-tests" },
    create: { name: "worker-tests" },
    update: {},
  });
  const plan = planExperiment({ tenantId: tenant.id, spec });
  const outcome = await createExperimentRows(db, plan, { maxActiveRuns: LIMITS.maxActiveRunsPerTenant });
  if (outcome.kind !== "inserted") throw new Error(`test experiment not inserted: ${outcome.kind}`);
  const experiment = await db.experiment.findUniqueOrThrow({ where: { id: plan.id } });
  const runs = await db.run.findMany({
    where: { experimentId: plan.id },
    orderBy: [{ variantIndex: "asc" }, { repeat: "asc" }],
  });
  return { experiment, runs };
}

/**
 * A worker's environment for tests: its database and queue prefix, with the short lock, stall,
 * poll and reconcile timings that let a lost or killed worker's run move on within seconds.
 */
export function quickRecoveryEnv({ databaseUrl, prefix }: { databaseUrl: string; prefix: string }) {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    WORKER_LOCK_DURATION_MS: "2000",
    WORKER_STALLED_INTERVAL_MS: "1000",
    CANCEL_POLL_MS: "500",
    HEARTBEAT_MS: "1000",
    RECONCILE_INTERVAL_MS: "1000",
    RECONCILE_STALE_MS: "5000",
  };
}

/** SIGKILLs the workers (those still running) and waits until each has exited; empties the list. */
export async function killWorkers(workers: WorkerProcess[]): Promise<void> {
  for (const w of workers.splice(0)) {
    w.kill("SIGKILL");
    await w.exited;
  }
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
    const parsed = parseLogLine(line);
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
