import * as tf from "@tensorflow/tfjs";

/**
 * A resumable training state. `weights` holds the model's weights followed by the optimizer's
 * slots as little-endian float32; `state` (JSON-safe) says how to cut them apart and carries
 * the optimizer's iteration count. Randomness needs no stored state: the shuffle of epoch e
 * and rrelu's slopes are derived from (run seed, epoch, batch).
 */
export interface TrainCheckpoint {
  epoch: number;
  weights: Uint8Array;
  state: Record<string, unknown>;
}

export interface TensorEntry {
  name: string;
  shape: number[];
}

/**
 * Adam keeps β₁ᵗ and β₂ᵗ as running float32 products, which its setWeights recomputes as
 * powers, a few ulps away. Saving and restoring the products themselves makes a resumed run
 * bit-identical to one that never stopped.
 */
const EXTRA_OPTIMIZER_SCALARS = ["accBeta1", "accBeta2"] as const;

function optimizerScalars(optimizer: tf.Optimizer): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of EXTRA_OPTIMIZER_SCALARS) {
    const v = (optimizer as unknown as Record<string, tf.Variable | undefined>)[key];
    if (v instanceof tf.Variable) out[key] = v.dataSync()[0] as number;
  }
  return out;
}

/** The JSON half of a checkpoint (the same whichever engine wrote it). */
export interface CheckpointState {
  format: "actlab-checkpoint/1";
  epoch: number;
  seed: number;
  model: TensorEntry[];
  optimizer: { name: string; iterations: number; slots: TensorEntry[]; scalars?: Record<string, number> };
  /** How the shuffle is derived, for humans reading a checkpoint. */
  shuffle: string;
}

export const CHECKPOINT_FORMAT = "actlab-checkpoint/1";
export const SHUFFLE_NOTE = "permutation of epoch e seeded by mixSeed(runSeed, 1, e)";

/** The state of a checkpoint, checked to be one this run's optimizer can resume from. */
export function checkpointState(checkpoint: TrainCheckpoint, optimizerName: string): CheckpointState {
  const state = checkpoint.state as unknown as CheckpointState;
  if (state?.format !== CHECKPOINT_FORMAT) throw new Error("checkpoint: unknown format");
  if (state.optimizer.name !== optimizerName) {
    throw new Error(`checkpoint was written by optimizer ${state.optimizer.name}, run uses ${optimizerName}`);
  }
  return state;
}

/** A checkpoint's floats, copied: the bytes may not be 4-byte aligned (a Buffer slice from a database driver). */
export function checkpointFloats(checkpoint: TrainCheckpoint): Float32Array {
  const bytes = checkpoint.weights;
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export async function saveCheckpoint(opts: {
  epoch: number;
  seed: number;
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  optimizerName: string;
}): Promise<TrainCheckpoint> {
  const modelVars = opts.model.weights.map((w) => ({ name: w.originalName, tensor: w.read() }));
  const named = await opts.optimizer.getWeights();
  // getWeights returns a fresh scalar for the iteration count, then the slot variables themselves.
  const iterEntry = named.find((n) => n.name === "iter");
  const iterations = iterEntry ? (iterEntry.tensor.dataSync()[0] ?? 0) : 0;
  iterEntry?.tensor.dispose();
  const slots = named.filter((n) => n !== iterEntry);
  const all = [...modelVars, ...slots];
  const total = all.reduce((a, t) => a + t.tensor.size, 0);
  const floats = new Float32Array(total);
  let off = 0;
  for (const t of all) {
    floats.set(t.tensor.dataSync() as Float32Array, off);
    off += t.tensor.size;
  }
  const state: CheckpointState = {
    format: CHECKPOINT_FORMAT,
    epoch: opts.epoch,
    seed: opts.seed,
    model: modelVars.map((t) => ({ name: t.name, shape: t.tensor.shape })),
    optimizer: {
      name: opts.optimizerName,
      iterations,
      slots: slots.map((t) => ({ name: t.name, shape: t.tensor.shape })),
      scalars: optimizerScalars(opts.optimizer),
    },
    shuffle: SHUFFLE_NOTE,
  };
  return {
    epoch: opts.epoch,
    weights: new Uint8Array(floats.buffer),
    state: state as unknown as Record<string, unknown>,
  };
}

export async function restoreCheckpoint(opts: {
  checkpoint: TrainCheckpoint;
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  optimizerName: string;
}): Promise<void> {
  const state = checkpointState(opts.checkpoint, opts.optimizerName);
  const floats = checkpointFloats(opts.checkpoint);
  let off = 0;
  const take = (e: TensorEntry) => {
    const size = e.shape.reduce((a, b) => a * b, 1);
    const t = tf.tensor(floats.subarray(off, off + size), e.shape);
    off += size;
    return t;
  };
  const modelWeights = state.model.map(take);
  const current = opts.model.weights;
  if (
    current.length !== modelWeights.length ||
    current.some((w, i) => w.shape.join() !== modelWeights[i]?.shape.join())
  ) {
    tf.dispose(modelWeights);
    throw new Error("checkpoint does not fit this network (different layers or shapes)");
  }
  opts.model.setWeights(modelWeights);
  tf.dispose(modelWeights);
  const slots = state.optimizer.slots.map((e) => ({ name: e.name, tensor: take(e) }));
  if (off !== floats.length) throw new Error("checkpoint: weight bytes do not match its state");
  const iter = tf.scalar(state.optimizer.iterations, "int32");
  await opts.optimizer.setWeights([{ name: "iter", tensor: iter }, ...slots]);
  iter.dispose();
  tf.dispose(slots.map((s) => s.tensor));
  for (const [key, value] of Object.entries(state.optimizer.scalars ?? {})) {
    const v = (opts.optimizer as unknown as Record<string, tf.Variable | undefined>)[key];
    if (v instanceof tf.Variable) tf.tidy(() => v.assign(tf.scalar(value)));
  }
}
