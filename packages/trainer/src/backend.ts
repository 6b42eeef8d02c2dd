import type { TBackendName } from "@actlab/contracts";
import { type BlasInfo, loadNative } from "@actlab/native";
import * as tf from "@tensorflow/tfjs";
import { BackendUnavailableError, GpuUnavailableError } from "./errors.js";

/** `native` is @actlab/native (OpenBLAS) training, with TF.js on its CPU backend for building and export. */
export type BackendName = TBackendName;

let blas: BlasInfo | null = null;

/** OpenBLAS as the native engine loaded it (its core, threads), when the backend is native. */
export function nativeBlasInfo(): BlasInfo | null {
  return blas;
}

let active: BackendName | null = null;

/** The backend initBackend chose, or null before it ran. */
export function activeBackend(): BackendName | null {
  return active;
}

// Package names in variables so TypeScript does not try to resolve optional packages.
const TFJS_NODE = "@tensorflow/tfjs-node";
const TFJS_NODE_GPU = "@tensorflow/tfjs-node-gpu";

async function tryNative(pkg: string): Promise<string | null> {
  try {
    await import(pkg);
    return (await tf.setBackend("tensorflow")) ? null : "backend 'tensorflow' failed to initialise";
  } catch (err) {
    return err instanceof Error ? (err.message.split("\n")[0] ?? err.message) : String(err);
  }
}

async function tryWasm(fixes: boolean): Promise<string | null> {
  try {
    await import("@tensorflow/tfjs-backend-wasm");
    if (fixes) {
      const { installWasmFixes } = await import("./wasm-kernels.js");
      installWasmFixes();
    }
    return (await tf.setBackend("wasm")) ? null : "backend 'wasm' failed to initialise";
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

async function useCpu(): Promise<string | null> {
  if (!(await tf.setBackend("cpu"))) return "backend 'cpu' failed to initialise";
  // The CPU backend prints a banner recommending tfjs-node on first use; we already
  // chose the best backend available, so it is only noise in the worker's logs.
  const cpu = tf.findBackend("cpu") as { firstUse?: boolean } | null;
  if (cpu) cpu.firstUse = false;
  return null;
}

async function tryBackend(
  name: BackendName,
  opts: { wasmFixes: boolean; nativeAddonPath?: string },
): Promise<string | null> {
  switch (name) {
    case "native": {
      const loaded = loadNative(opts.nativeAddonPath);
      if (!loaded.ok) return loaded.error;
      blas = loaded.blas;
      // TF.js only builds, initialises and exports the network here: its plain CPU backend does.
      return useCpu();
    }
    case "tensorflow-gpu":
      return tryNative(TFJS_NODE_GPU);
    case "tensorflow":
      return tryNative(TFJS_NODE);
    case "wasm":
      return tryWasm(opts.wasmFixes);
    case "cpu":
      return useCpu();
  }
}

/**
 * Picks the best backend for this process: for "gpu" only @tensorflow/tfjs-node-gpu (else
 * GpuUnavailableError); for "cpu" the native engine, then @tensorflow/tfjs-node, then wasm
 * (XNNPACK), then plain JS. `force` (the caller reads it from its environment) tries exactly
 * that one. `onFallback` hears why each better backend was passed over.
 */
export async function initBackend(opts: {
  device: "cpu" | "gpu";
  force?: BackendName;
  /** Install actlab's wasm kernel fixes (default true; false only to measure stock tfjs-wasm). */
  wasmFixes?: boolean;
  /** Where the native addon is (default: the one npm built); a wrong path makes native unavailable. */
  nativeAddonPath?: string;
  onFallback?: (info: { backend: BackendName; reason: string }) => void;
}): Promise<BackendName> {
  if (opts.device === "gpu" || opts.force === "tensorflow-gpu") {
    const why = await tryBackend("tensorflow-gpu", { wasmFixes: false });
    if (why !== null) throw new GpuUnavailableError(why);
    active = "tensorflow-gpu";
    return active;
  }
  const order: BackendName[] = opts.force ? [opts.force] : ["native", "tensorflow", "wasm", "cpu"];
  const failures: string[] = [];
  const tried = {
    wasmFixes: opts.wasmFixes ?? true,
    ...(opts.nativeAddonPath ? { nativeAddonPath: opts.nativeAddonPath } : {}),
  };
  for (const name of order) {
    const why = await tryBackend(name, tried);
    if (why === null) {
      await tf.ready();
      active = name;
      return name;
    }
    failures.push(`${name}: ${why}`);
    opts.onFallback?.({ backend: name, reason: why });
  }
  throw new BackendUnavailableError(`no TensorFlow.js backend could be initialised (${failures.join("; ")})`);
}
