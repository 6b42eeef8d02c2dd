/**
 * @actlab/native — the native CPU training engine (an N-API addon on OpenBLAS). One call per
 * batch does forward, loss, backward and the update of the MLP family actlab trains; evaluation
 * and the probe metrics are native too. This module loads the addon (reporting why it cannot),
 * and wraps it in NativeEngine, which owns one run's memory until dispose().
 *
 * The addon checks every argument itself; the wrapper checks the shapes it knows too, so a
 * mistake reads as a JavaScript error that names the argument.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The addon's raw functions (src/binding.cc). */
interface Addon {
  create(config: RawConfig): object;
  dispose(engine: object): void;
  sizes(engine: object): [number, number];
  getState(engine: object, out: Float32Array, scalars: Float64Array): void;
  setState(engine: object, state: Float32Array, scalars: Float64Array): void;
  trainBatch(
    engine: object,
    x: Float32Array,
    y: Int32Array,
    rows: number,
    seeds: Uint32Array | null,
    out: Float64Array,
  ): void;
  setData(engine: object, x: Float32Array, y: Int32Array, rows: number): void;
  trainRows(
    engine: object,
    indices: Uint32Array,
    count: number,
    seeds: Uint32Array | null,
    out: Float64Array,
  ): void;
  evaluate(engine: object, x: Float32Array, y: Int32Array, rows: number, out: Float64Array): void;
  probe(
    engine: object,
    x: Float32Array,
    y: Int32Array,
    rows: number,
    pre: Float32Array,
    norms: Float64Array,
  ): void;
  activation(
    id: number,
    p0: number,
    p1: number,
    x: Float32Array,
    f: Float32Array,
    df: Float32Array,
    dalpha: Float32Array,
  ): void;
  mixSeed2(a: number, b: number): number;
  blasInfo(): BlasInfo;
}

interface RawConfig {
  inputSize: number;
  units: number;
  hiddenLayers: number;
  classes: number;
  maxRows: number;
  activation: number;
  p0: number;
  p1: number;
  optimizer: number;
  learningRate: number;
  momentum: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export interface BlasInfo {
  /** The kernels OpenBLAS runs (openblas_get_corename). */
  corename: string;
  config: string;
  threads: number;
  /** OPENBLAS_* variables of the environment the engine ignored while loading OpenBLAS. */
  ignoredEnv: string;
}

/** The built addon, next to this package (build/Release, made by node-gyp during npm install). */
export const DEFAULT_ADDON_PATH = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "build",
  "Release",
  "actlab_native.node",
);

let cached: { path: string; result: { addon: Addon } | { error: string } } | null = null;

/**
 * Loads the addon and OpenBLAS behind it, once per thread. Returns why it cannot (not built,
 * OpenBLAS missing) instead of throwing, so the caller can say so and use another backend.
 */
export function loadNative(
  path: string = DEFAULT_ADDON_PATH,
): { ok: true; blas: BlasInfo } | { ok: false; error: string } {
  if (!cached || cached.path !== path) {
    let result: { addon: Addon } | { error: string };
    if (!existsSync(path)) {
      result = {
        error: `the native addon is not built (${path} is missing; npm install builds it with g++, make, python3 and libopenblas-dev)`,
      };
    } else {
      try {
        const addon = createRequire(import.meta.url)(path) as Addon;
        addon.blasInfo(); // loads OpenBLAS, throws if it cannot
        result = { addon };
      } catch (err) {
        result = { error: err instanceof Error ? err.message : String(err) };
      }
    }
    cached = { path, result };
  }
  const r = cached.result;
  return "addon" in r ? { ok: true, blas: r.addon.blasInfo() } : { ok: false, error: r.error };
}

function addon(): Addon {
  const r = cached?.result;
  if (!r || !("addon" in r)) throw new Error("the native engine is not loaded (call loadNative first)");
  return r.addon;
}

export const OPTIMIZER_IDS = { sgd: 0, momentum: 1, adam: 2 } as const;

export interface EngineConfig {
  inputSize: number;
  units: number;
  hiddenLayers: number;
  classes: number;
  /** The most rows one call may pass (batch size, evaluation chunk, probe batch). */
  maxRows: number;
  /** ACTIVATIONS[name].nativeId from @actlab/contracts. */
  activationId: number;
  /** leaky_relu/elu: p0 = α, prelu: p0 = α for activation() only; rrelu: p0 = lower, p1 = upper. */
  p0?: number;
  p1?: number;
  optimizer: keyof typeof OPTIMIZER_IDS;
  learningRate: number;
  momentum?: number;
  /** tf.train.adam's defaults: β₁ 0.9, β₂ 0.999, ε the backend's (1e-7 for float32). */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** The optimizer's scalars: tf.train's iteration count and Adam's running β₁ᵗ, β₂ᵗ. */
export interface OptimizerScalars {
  iterations: number;
  accBeta1: number;
  accBeta2: number;
}

/**
 * One run's network in native memory. The state is the parameters in TensorFlow.js's weight
 * order, then the optimizer's slots in tf.train's order (momentum: one per parameter; Adam: all
 * first moments, then all second moments), so it copies straight to and from TF.js.
 */
export class NativeEngine {
  readonly config: Readonly<EngineConfig>;
  readonly paramFloats: number;
  readonly stateFloats: number;
  private handle: object | null;
  private readonly out = new Float64Array(2);
  private readonly scalars = new Float64Array(3);

  constructor(config: EngineConfig) {
    this.config = { ...config };
    this.handle = addon().create({
      inputSize: config.inputSize,
      units: config.units,
      hiddenLayers: config.hiddenLayers,
      classes: config.classes,
      maxRows: config.maxRows,
      activation: config.activationId,
      p0: config.p0 ?? 0,
      p1: config.p1 ?? 0,
      optimizer: OPTIMIZER_IDS[config.optimizer],
      learningRate: config.learningRate,
      momentum: config.momentum ?? 0,
      beta1: config.beta1 ?? 0.9,
      beta2: config.beta2 ?? 0.999,
      epsilon: config.epsilon ?? 1e-7,
    });
    [this.paramFloats, this.stateFloats] = addon().sizes(this.handle);
  }

  private get h(): object {
    if (!this.handle) throw new Error("the native engine was disposed");
    return this.handle;
  }

  getState(out: Float32Array = new Float32Array(this.stateFloats)): {
    state: Float32Array;
    scalars: OptimizerScalars;
  } {
    addon().getState(this.h, out, this.scalars);
    const [iterations, accBeta1, accBeta2] = this.scalars as unknown as [number, number, number];
    return { state: out, scalars: { iterations, accBeta1, accBeta2 } };
  }

  setState(state: Float32Array, scalars: OptimizerScalars): void {
    addon().setState(this.h, state, Float64Array.of(scalars.iterations, scalars.accBeta1, scalars.accBeta2));
  }

  /** One step on `rows` examples; `seeds` (rrelu only) one per hidden layer. Returns the batch's mean loss. */
  trainBatch(x: Float32Array, y: Int32Array, rows: number, seeds: Uint32Array | null = null) {
    addon().trainBatch(this.h, x, y, rows, seeds, this.out);
    return { loss: this.out[0] as number, correct: this.out[1] as number };
  }

  /** Keeps a copy of the training set (`rows` examples) for trainRows, by its nonzero entries. */
  setData(x: Float32Array, y: Int32Array, rows: number): void {
    addon().setData(this.h, x, y, rows);
  }

  /**
   * trainBatch on the setData rows `indices` (in that order), bit for bit the same step, without
   * gathering the batch in JavaScript first.
   */
  trainRows(indices: Uint32Array, seeds: Uint32Array | null = null) {
    addon().trainRows(this.h, indices, indices.length, seeds, this.out);
    return { loss: this.out[0] as number, correct: this.out[1] as number };
  }

  /** Inference-mode loss summed over the rows, and the correct count. */
  evaluate(x: Float32Array, y: Int32Array, rows: number) {
    addon().evaluate(this.h, x, y, rows, this.out);
    return { lossSum: this.out[0] as number, correct: this.out[1] as number };
  }

  /** Kernel gradient L2 norms (input side first) and hidden pre-activations on one inference-mode batch. */
  probe(x: Float32Array, y: Int32Array, rows: number) {
    const { hiddenLayers: L, units } = this.config;
    const pre = new Float32Array(L * rows * units);
    const norms = new Float64Array(L + 1);
    addon().probe(this.h, x, y, rows, pre, norms);
    const per = rows * units;
    return {
      gradNorms: Array.from(norms),
      pre: Array.from({ length: L }, (_, l) => pre.subarray(l * per, (l + 1) * per)),
    };
  }

  /** Frees the native memory now (the garbage collector would, later). Calls after it throw. */
  dispose(): void {
    if (this.handle) addon().dispose(this.handle);
    this.handle = null;
  }
}

/** The engine's f, f′ and ∂f/∂α (prelu) on given points, for the catalog agreement tests. */
export function nativeActivation(id: number, x: Float32Array, p0 = 0, p1 = 0) {
  const f = new Float32Array(x.length);
  const df = new Float32Array(x.length);
  const dalpha = new Float32Array(x.length);
  addon().activation(id, p0, p1, x, f, df, dalpha);
  return { f, df, dalpha };
}

/** The engine's rrelu hash (equal to the trainer's mixSeed(a, b)). */
export function nativeMixSeed(a: number, b: number): number {
  return addon().mixSeed2(a >>> 0, b >>> 0);
}
