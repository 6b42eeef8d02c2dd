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
  tf.unregisterKernel(kernelName, "wasm");
  tf.registerKernel({ ...original, kernelFunc: kernelFunc as tf.KernelFunc });
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

/** Installs the wasm kernel fixes once; needs @tensorflow/tfjs-backend-wasm imported first. */
export function installWasmFixes(): void {
  if (installed) return;
  installed = true;
  wrapTransposing("BatchMatMul");
  wrapTransposing("_FusedMatMul");
  shareIdentity();
}
