import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { TEpochMetrics } from "@actlab/contracts";
import type { BackendName, TrainCheckpoint } from "@actlab/trainer";
import {
  type FromThread,
  type SerializedError,
  SHARED,
  STOP,
  type ThreadTrainResult,
  type ToThread,
  type TrainAttempt,
} from "./messages.js";

/** An error raised in the training thread, rebuilt in the main thread with its name and code. */
export class TrainerError extends Error {
  readonly code: string | undefined;
  constructor(serialized: SerializedError) {
    super(serialized.message);
    this.name = serialized.name;
    this.code = serialized.code;
    if (serialized.stack) this.stack = serialized.stack;
  }
}

/** The training thread died (out of memory, a native crash): transient, the run resumes. */
export class TrainerCrashedError extends Error {
  override name = "TrainerCrashedError";
}

export interface TrainHandle {
  result: Promise<ThreadTrainResult>;
  /** Makes the trainer stop before its next batch. */
  stop(kind: "cancel" | "shutdown"): void;
  stopRequested(): "cancel" | "shutdown" | null;
  /** Batches the training thread has trained so far in this attempt (read from shared memory, not trailing). */
  batchesTrained(): number;
}

export interface TrainRequest extends TrainAttempt {
  /** Stores one epoch (with a checkpoint when one is due), called in epoch order. A throw aborts the run. */
  onEpoch: (metrics: TEpochMetrics, checkpoint: TrainCheckpoint | null) => Promise<void>;
  /** Stores the checkpoint of a run stopped after an epoch that was not checkpointed. */
  onCheckpoint: (checkpoint: TrainCheckpoint) => Promise<void>;
  onBatch?: (info: { epoch: number; batch: number; batches: number }) => void;
}

// Runs from src (tsx, .ts) and from dist (.js): the thread file has the same extension as this one.
const THREAD_URL = new URL(`./thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * Worker threads do not inherit tsx's module hooks from `--import tsx`, so when running from
 * source the thread first registers tsx itself, then imports the TypeScript entry.
 */
function spawnThread(): Worker {
  if (!THREAD_URL.pathname.endsWith(".ts")) return new Worker(THREAD_URL);
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(THREAD_URL.href)}); })`;
  return new Worker(boot, { eval: true });
}

/** Backends whose thread can be replaced: native TensorFlow (tfjs-node) cannot always be loaded twice (see onCrash); the native engine is context-aware and can. */
const REPLACEABLE: readonly BackendName[] = ["native", "wasm", "cpu"];

/**
 * The main-thread side of the one training thread of this process. The thread is started once
 * (TensorFlow.js initialised once, datasets cached), restarted if it dies and, on the wasm and
 * cpu backends, replaced between runs after `replaceAfterRuns` runs: TensorFlow.js layers keep
 * every variable and tensor name they ever made in a module-level map (~1.3 KB per tiny run, no
 * way to clear it), so a thread that lived forever would grow without bound.
 */
export class TrainerThread {
  private worker: Worker | null = null;
  private ready: Promise<BackendName> | null = null;
  private onMessage: ((msg: FromThread) => void) | null = null;
  private onExit: ((err: Error) => void) | null = null;
  private closing = false;
  private backend: BackendName | null = null;
  /** What the thread reported when it became ready (for the worker's log). */
  info: Omit<Extract<FromThread, { type: "ready" }>, "type"> | null = null;
  private runsInThread = 0;
  /** Threads retired on purpose: their exit is not a crash. */
  private readonly retired = new WeakSet<Worker>();

  constructor(
    private readonly opts: {
      device: "cpu" | "gpu";
      force?: BackendName;
      nativeAddonPath?: string;
      datasets: { mnistFullDir?: string; fashionMnistDir?: string };
      /**
       * Called when an initialised thread dies. The process should then stop and be restarted:
       * native TensorFlow (tfjs-node) cannot always be loaded a second time in a new thread of
       * the same process (tensorflow/tfjs#8388).
       */
      onCrash?: (err: Error) => void;
      /** Replace the thread (wasm/cpu) after this many runs; default never. */
      replaceAfterRuns?: number;
      onReplace?: (info: { runs: number; backend: BackendName }) => void;
    },
  ) {}

  /** Starts the thread and initialises the backend; rejects with the thread's error (e.g. GpuUnavailableError). */
  start(): Promise<BackendName> {
    if (this.ready) return this.ready;
    const worker = spawnThread();
    this.worker = worker;
    this.ready = new Promise<BackendName>((resolve, reject) => {
      let initialised = false;
      worker.on("message", (msg: FromThread) => {
        if (msg.type === "ready") {
          initialised = true;
          this.backend = msg.backend;
          const { type: _type, ...info } = msg;
          this.info = info;
          this.runsInThread = 0;
          resolve(msg.backend);
        } else if (msg.type === "init-failed") {
          reject(new TrainerError(msg.error));
          void worker.terminate();
        } else this.onMessage?.(msg);
      });
      const died = (err: Error) => {
        if (this.worker === worker) {
          this.worker = null;
          this.ready = null;
        }
        if (this.retired.has(worker)) return;
        if (!initialised) reject(err);
        this.onExit?.(err);
        if (initialised && !this.closing) this.opts.onCrash?.(err);
      };
      worker.on("error", (err) => died(new TrainerCrashedError(`training thread crashed: ${err.message}`)));
      worker.on("exit", (code) => died(new TrainerCrashedError(`training thread exited with code ${code}`)));
    });
    const init: ToThread = {
      type: "init",
      device: this.opts.device,
      ...(this.opts.force ? { force: this.opts.force } : {}),
      ...(this.opts.nativeAddonPath ? { nativeAddonPath: this.opts.nativeAddonPath } : {}),
      datasets: this.opts.datasets,
    };
    worker.postMessage(init);
    return this.ready;
  }

  /** Trains one run in the thread. Only one run at a time. */
  train(req: TrainRequest): TrainHandle {
    const shared = new SharedArrayBuffer(SHARED.length * 4);
    const flag = new Int32Array(shared);
    const result = (async () => {
      await this.start();
      const worker = this.worker;
      if (!worker) throw new TrainerCrashedError("training thread is not running");
      return new Promise<ThreadTrainResult>((resolve, reject) => {
        // A failed epoch store is reported as itself, not as the thread's rethrow of it.
        let storeError: Error | null = null;
        let chain = Promise.resolve();
        const finish = () => {
          this.onMessage = null;
          this.onExit = null;
        };
        this.onExit = (err) => {
          finish();
          reject(err);
        };
        this.onMessage = (msg) => {
          if (!("runId" in msg) || msg.runId !== req.runId) return;
          switch (msg.type) {
            case "batch":
              req.onBatch?.(msg);
              break;
            case "epoch":
            case "checkpoint": {
              const { seq } = msg;
              const store =
                msg.type === "epoch"
                  ? () => req.onEpoch(msg.metrics, msg.checkpoint)
                  : () => req.onCheckpoint(msg.checkpoint);
              chain = chain.then(async () => {
                let error: string | undefined;
                if (storeError) {
                  // After a failed store none is tried: each would wait out its own retries (a
                  // worker cut off from Postgres then held its run for a minute, not seconds),
                  // and a later epoch must not be stored past a missing one. The run resumes
                  // from its checkpoint, elsewhere or here.
                  error = storeError.message;
                } else {
                  try {
                    await store();
                  } catch (err) {
                    storeError = err as Error;
                    error = (err as Error).message;
                  }
                }
                const ack: ToThread = { type: "epoch-ack", runId: req.runId, seq };
                if (error !== undefined) ack.error = error;
                worker.postMessage(ack);
              });
              break;
            }
            case "done":
              void chain.then(() => {
                finish();
                resolve(msg.result);
              });
              break;
            case "failed":
              void chain.then(() => {
                finish();
                reject(storeError ?? new TrainerError(msg.error));
              });
              break;
          }
        };
        const train: ToThread = {
          type: "train",
          runId: req.runId,
          spec: req.spec,
          variant: req.variant,
          seed: req.seed,
          resumeFrom: req.resumeFrom,
          checkpointIntervalMs: req.checkpointIntervalMs,
          shared,
        };
        worker.postMessage(train);
      });
    })();
    const counted = result.finally(() => this.afterRun());
    counted.catch(() => {}); // the caller handles `result`'s rejection
    return {
      result: counted,
      stop(kind) {
        // The first reason wins: a cancel is not turned into a hand-back by a later SIGTERM.
        Atomics.compareExchange(
          flag,
          SHARED.stop,
          STOP.none,
          kind === "cancel" ? STOP.cancel : STOP.shutdown,
        );
      },
      stopRequested() {
        const v = Atomics.load(flag, SHARED.stop);
        return v === STOP.cancel ? "cancel" : v === STOP.shutdown ? "shutdown" : null;
      },
      batchesTrained: () => Atomics.load(flag, SHARED.batches),
    };
  }

  /** Between runs: retires the thread once it has trained `replaceAfterRuns`; the next run starts a new one. */
  private afterRun(): void {
    const worker = this.worker;
    const limit = this.opts.replaceAfterRuns;
    if (!worker || !limit || this.closing || !this.backend || !REPLACEABLE.includes(this.backend)) return;
    this.runsInThread += 1;
    if (this.runsInThread < limit) return;
    this.retired.add(worker);
    this.worker = null;
    this.ready = null;
    this.opts.onReplace?.({ runs: this.runsInThread, backend: this.backend });
    void worker.terminate();
  }

  async close(): Promise<void> {
    this.closing = true;
    const worker = this.worker;
    this.worker = null;
    this.ready = null;
    if (worker) await worker.terminate();
  }
}
