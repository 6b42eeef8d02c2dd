/**
 * Entry of the training thread (node:worker_threads). It owns TensorFlow.js: the backend is
 * initialised here once, and each `train` message runs one trainRun. Everything that touches
 * Postgres or Redis stays in the main thread, which stores each epoch and acknowledges it
 * before the next one starts (trainRun awaits onEpoch).
 */
import { parentPort } from "node:worker_threads";
import {
  configureDatasets,
  describeBackend,
  initBackend,
  type TrainCheckpoint,
  trainRun,
} from "@actlab/trainer";
import {
  type EpochAckMessage,
  type FromThread,
  type InitMessage,
  STOP,
  serializeError,
  type ToThread,
  type TrainMessage,
} from "./messages.js";

if (!parentPort) throw new Error("trainer/thread.ts must run in a worker thread");
const port = parentPort;
const post = (msg: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

const pendingAcks = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();

async function init(msg: InitMessage): Promise<void> {
  try {
    const backend = await initBackend({ device: msg.device, ...(msg.force ? { force: msg.force } : {}) });
    configureDatasets(msg.datasets);
    post({ type: "ready", backend, engine: await describeBackend() });
  } catch (err) {
    post({ type: "init-failed", error: serializeError(err) });
  }
}

async function train(msg: TrainMessage): Promise<void> {
  const flag = new Int32Array(msg.stopFlag);
  try {
    const result = await trainRun({
      spec: msg.spec,
      variant: msg.variant,
      seed: msg.seed,
      resumeFrom: msg.resumeFrom,
      shouldStop: () => {
        const v = Atomics.load(flag, 0);
        return v === STOP.cancel ? "cancel" : v === STOP.shutdown ? "shutdown" : null;
      },
      onBatch: ({ epoch, batch, batches }) =>
        post({ type: "batch", runId: msg.runId, epoch, batch, batches }),
      onEpoch: (metrics, checkpoint: TrainCheckpoint) =>
        new Promise<void>((resolve, reject) => {
          pendingAcks.set(`${msg.runId}:${metrics.epoch}`, { resolve, reject });
          post({ type: "epoch", runId: msg.runId, metrics, checkpoint });
        }),
    });
    const { checkpoint: _latest, ...rest } = result;
    post({ type: "done", runId: msg.runId, result: rest });
  } catch (err) {
    post({ type: "failed", runId: msg.runId, error: serializeError(err) });
  }
}

function ack(msg: EpochAckMessage): void {
  const key = `${msg.runId}:${msg.epoch}`;
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
