/**
 * Entry of the training thread (node:worker_threads). It owns the training engine: the backend
 * is initialised here once, and each `train` message runs one trainRun. Everything that touches
 * Postgres or Redis stays in the main thread, which stores each epoch in order and acknowledges
 * it. The thread does not wait for each epoch's ack (at ~0.1 s an epoch the round trip would
 * show): it waits for all of them before handing out a checkpoint, when too many are in flight,
 * and at the end, and an ack's error aborts the run before its next epoch.
 */
import { parentPort } from "node:worker_threads";
import {
  type BackendName,
  configureDatasets,
  describeBackend,
  initBackend,
  nativeBlasInfo,
  type TrainCheckpoint,
  trainRun,
} from "@actlab/trainer";
import {
  type EpochAckMessage,
  type FromThread,
  type InitMessage,
  SHARED,
  STOP,
  serializeError,
  type ToThread,
  type TrainMessage,
} from "./messages.js";

if (!parentPort) throw new Error("training-thread/thread.ts must run in a worker thread");
const port = parentPort;
const post = (msg: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

/** Epoch stores in flight before the thread waits for the oldest (bounds memory if Postgres is slow). */
const MAX_IN_FLIGHT = 16;

const pendingAcks = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();

async function init(msg: InitMessage): Promise<void> {
  try {
    const fallbacks: { backend: BackendName; reason: string }[] = [];
    const backend = await initBackend({
      device: msg.device,
      ...(msg.force ? { force: msg.force } : {}),
      ...(msg.nativeAddonPath ? { nativeAddonPath: msg.nativeAddonPath } : {}),
      onFallback: (f) => fallbacks.push(f),
    });
    configureDatasets(msg.datasets);
    const blas = nativeBlasInfo();
    post({
      type: "ready",
      backend,
      fallbacks,
      blas: blas ? { corename: blas.corename, threads: blas.threads, ignoredEnv: blas.ignoredEnv } : null,
      engine: await describeBackend(),
    });
  } catch (err) {
    post({ type: "init-failed", error: serializeError(err) });
  }
}

async function train(msg: TrainMessage): Promise<void> {
  const shared = new Int32Array(msg.shared);
  let seq = 0;
  const inFlight: Promise<void>[] = [];
  let failure: Error | null = null;
  /** Posts one store and returns its ack; a failed store is remembered and rethrown at the next wait. */
  const send = (make: (seq: number) => FromThread): Promise<void> => {
    const n = ++seq;
    const acked = new Promise<void>((resolve, reject) => {
      pendingAcks.set(`${msg.runId}:${n}`, { resolve, reject });
      post(make(n));
    }).catch((err: Error) => {
      failure ??= err;
    });
    inFlight.push(acked);
    return acked;
  };
  const drain = async (keep: number) => {
    while (inFlight.length > keep) await inFlight.shift();
    if (failure) throw failure;
  };
  try {
    const result = await trainRun({
      spec: msg.spec,
      variant: msg.variant,
      seed: msg.seed,
      resumeFrom: msg.resumeFrom,
      checkpointIntervalMs: msg.checkpointIntervalMs,
      shouldStop: () => {
        const v = Atomics.load(shared, SHARED.stop);
        return v === STOP.cancel ? "cancel" : v === STOP.shutdown ? "shutdown" : null;
      },
      onBatch: ({ epoch, batch, batches }) => {
        Atomics.add(shared, SHARED.batches, 1);
        post({ type: "batch", runId: msg.runId, epoch, batch, batches });
      },
      onEpoch: async (metrics, checkpoint) => {
        if (failure) throw failure;
        if (checkpoint) await drain(0); // metrics before the checkpoint, as the store expects
        void send((n) => ({ type: "epoch", runId: msg.runId, seq: n, metrics, checkpoint }));
        await drain(checkpoint ? 0 : MAX_IN_FLIGHT);
      },
      onCheckpoint: async (checkpoint: TrainCheckpoint) => {
        await drain(0);
        await send((n) => ({ type: "checkpoint", runId: msg.runId, seq: n, checkpoint }));
        await drain(0);
      },
    });
    await drain(0);
    const { checkpoint: _latest, ...rest } = result;
    post({
      type: "done",
      runId: msg.runId,
      result: { ...rest, batchesTrained: Atomics.load(shared, SHARED.batches) },
    });
  } catch (err) {
    await Promise.allSettled(inFlight);
    post({ type: "failed", runId: msg.runId, error: serializeError(failure ?? err) });
  }
}

function ack(msg: EpochAckMessage): void {
  const key = `${msg.runId}:${msg.seq}`;
  const pending = pendingAcks.get(key);
  pendingAcks.delete(key);
  if (!pending) return;
  if (msg.error) pending.reject(new Error(msg.error));
  else pending.resolve();
}

port.on("message", (msg: ToThread) => {
  switch (msg.type) {
    case "init":
      void init(msg);
      break;
    case "train":
      void train(msg);
      break;
    case "epoch-ack":
      ack(msg);
      break;
  }
});
