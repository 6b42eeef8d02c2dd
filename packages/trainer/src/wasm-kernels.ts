import * as tf from "@tensorflow/tfjs";

/**
 * Speed fixes for @tensorflow/tfjs-backend-wasm, installed before the backend initialises.
 *
 * Stock tfjs-wasm hands a matMul to XNNPACK only when neither operand is transposed; with
 * transposeA or transposeB it runs a naive loop about 13× slower. Backprop through a Dense
 * layer is made of exactly those (dX = dY·Wᵀ, dW = Xᵀ·dY). The wrapped kernels transpose the
 * flagged operand once (a cheap memory pass) and then take the fast path.
 */
type KernelArgs = Parameters<tf.KernelFunc>[0];
type Info = tf.TensorInfo;
interface WasmBackendLike {
  disposeData(dataId: object): boolean;
}

let installed = false;

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 1] = rank - 2;
  perm[rank - 2] = rank - 1;
  return perm;
}

function wrapTransposing(kernelName: string): void {
  const original = tf.getKernel(kernelName, "wasm");
  const transpose = tf.getKernel("Transpose", "wasm");
  if (!original || !transpose) return;
  const run = original.kernelFunc;
  const kernelFunc = (args: KernelArgs) => {
    const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean };
    if (!attrs.transposeA && !attrs.transposeB) return run(args);
    const backend = args.backend as unknown as WasmBackendLike;
    const inputs = { ...args.inputs } as Record<string, Info>;
    const temps: Info[] = [];
    for (const [key, flag] of [
      ["a", attrs.transposeA],
      ["b", attrs.transposeB],
    ] as const) {
      const x = inputs[key];
      if (!flag || !x) continue;
      const t = transpose.kernelFunc({
        inputs: { x },
        backend: args.backend,
        attrs: { perm: swapLastTwo(x.shape.length) },
      }) as Info;
      temps.push(t);
      inputs[key] = t;
    }
    try {
      return run({ ...args, inputs, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
  const transposeInfo = (x: Info, backend: KernelArgs["backend"]) =>
    transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm: swapLastTwo(x.shape.length) } }) as Info;
  /**
   * a·bᵀ (the backprop dX = dY·Wᵀ) in the cheaper of two ways. XNNPACK repacks its right-hand
   * operand on every call (~5 ns an element here, against <1 ns for a transpose), so when a is
   * the smaller matrix, (b·aᵀ)ᵀ — transpose a, multiply, transpose the product — beats
   * transposing and repacking b.
   */
  const swapped = (args: KernelArgs) => {
    const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean };
    const a = args.inputs.a as Info;
    const b = args.inputs.b as Info;
    if (kernelName !== "BatchMatMul" || attrs.transposeA || !attrs.transposeB) return null;
    if (a.shape.length !== b.shape.length || a.shape.slice(0, -2).join() !== b.shape.slice(0, -2).join())
      return null;
    const [m, k] = a.shape.slice(-2) as [number, number];
    const n = b.shape.at(-2) as number;
    if (5.4 * k * m + 0.6 * n * m >= 5.4 * k * n) return null;
    const backend = args.backend as unknown as WasmBackendLike;
    const aT = transposeInfo(a, args.backend);
    let product: Info | null = null;
    try {
      product = run({
        ...args,
        inputs: { a: b, b: aT },
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      }) as Info;
      return transposeInfo(product, args.backend);
    } finally {
      backend.disposeData(aT.dataId);
      if (product) backend.disposeData(product.dataId);
    }
  };
  const chooser = (args: KernelArgs) => swapped(args) ?? kernelFunc(args);
  tf.unregisterKernel(kernelName, "wasm");
  tf.registerKernel({ ...original, kernelFunc: chooser as tf.KernelFunc });
}

/**
 * Identity on wasm copies the tensor's memory; the engine calls it for every tensor it saves
 * for backprop (Engine.clone). Tensors are immutable, so sharing the buffer with a reference
 * count, as the CPU backend and wasm's own Reshape do, is enough.
 */
function shareIdentity(): void {
  const original = tf.getKernel("Identity", "wasm");
  if (!original) return;
  const run = original.kernelFunc;
  const kernelFunc = (args: KernelArgs) => {
    const x = args.inputs.x as Info;
    if (x.dtype === "string") return run(args);
    (args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  tf.unregisterKernel("Identity", "wasm");
  tf.registerKernel({ ...original, kernelFunc: kernelFunc as tf.KernelFunc });
}

interface HeapBackend {
  makeOutput(shape: number[], dtype: string): Info;
  typedArrayFromHeap(info: Info): Float32Array;
  disposeData(dataId: object): boolean;
}

/**
 * tfjs-wasm's Tanh is a scalar libm loop, ~10× slower than its XNNPACK sigmoid; a tanh network
 * spends a tenth of each step in it. tanh(x) = 2σ(2x) − 1 runs on the fast sigmoid (and wasm's
 * own Multiply and Sub: JS loops over the wasm heap measured slower than the libm loop).
 * Absolute error stays below 2e-7 (float32 rounding of σ near ½). The gradient, 1 − y² from
 * the saved output, is unchanged.
 */
function fastTanh(): void {
  const original = tf.getKernel("Tanh", "wasm");
  const sigmoid = tf.getKernel("Sigmoid", "wasm");
  const multiply = tf.getKernel("Multiply", "wasm");
  const subtract = tf.getKernel("Sub", "wasm");
  if (!original || !sigmoid || !multiply || !subtract) return;
  const kernelFunc = (args: KernelArgs) => {
    const x = args.inputs.x as Info;
    if (x.dtype !== "float32") return original.kernelFunc(args);
    const backend = args.backend as unknown as HeapBackend;
    const scalar = (v: number) => {
      const s = backend.makeOutput([], "float32");
      backend.typedArrayFromHeap(s)[0] = v;
      return s;
    };
    const run = (k: tf.KernelConfig, inputs: Record<string, Info>) =>
      k.kernelFunc({ inputs, backend: args.backend, attrs: {} }) as Info;
    const two = scalar(2);
    const one = scalar(1);
    const twiceX = run(multiply, { a: x, b: two });
    const s = run(sigmoid, { x: twiceX });
    const twiceS = run(multiply, { a: s, b: two });
    const y = run(subtract, { a: twiceS, b: one });
    for (const t of [two, one, twiceX, s, twiceS]) backend.disposeData(t.dataId);
    return y;
  };
  tf.unregisterKernel("Tanh", "wasm");
  tf.registerKernel({ ...original, kernelFunc: kernelFunc as tf.KernelFunc });
}

/** Installs the wasm kernel fixes once; needs @tensorflow/tfjs-backend-wasm imported first. */
export function installWasmFixes(): void {
  if (installed) return;
  installed = true;
  wrapTransposing("BatchMatMul");
  wrapTransposing("_FusedMatMul");
  shareIdentity();
  fastTanh();
}
