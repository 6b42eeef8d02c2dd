import type { TProvenance } from "@actlab/contracts";
import * as tf from "@tensorflow/tfjs";
import { BackendUnavailableError, GpuUnavailableError } from "./errors.js";

export type BackendName = "tensorflow-gpu" | "tensorflow" | "wasm" | "cpu";

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

async function tryBackend(name: BackendName, wasmFixes: boolean): Promise<string | null> {
  switch (name) {
    case "tensorflow-gpu":
      return tryNative(TFJS_NODE_GPU);
    case "tensorflow":
      return tryNative(TFJS_NODE);
    case "wasm":
      return tryWasm(wasmFixes);
    case "cpu": {
      if (!(await tf.setBackend("cpu"))) return "backend 'cpu' failed to initialise";
      // The CPU backend prints a banner recommending tfjs-node on first use; we already
      // chose the best backend available, so it is only noise in the worker's logs.
      const cpu = tf.findBackend("cpu") as { firstUse?: boolean } | null;
      if (cpu) cpu.firstUse = false;
      return null;
    }
  }
}

/**
 * Picks the best backend for this process: for "gpu" only @tensorflow/tfjs-node-gpu (else
 * GpuUnavailableError); for "cpu" @tensorflow/tfjs-node, then wasm (XNNPACK), then plain JS.
 * `force` (the caller reads it from its environment) tries exactly that one.
 */
export async function initBackend(opts: {
  device: "cpu" | "gpu";
  force?: BackendName;
  /** Install actlab's wasm kernel fixes (default true; false only to measure stock tfjs-wasm). */
  wasmFixes?: boolean;
}): Promise<BackendName> {
  if (opts.device === "gpu" || opts.force === "tensorflow-gpu") {
    const why = await tryBackend("tensorflow-gpu", false);
    if (why !== null) throw new GpuUnavailableError(why);
    active = "tensorflow-gpu";
    return active;
  }
  const order: BackendName[] = opts.force ? [opts.force] : ["tensorflow", "wasm", "cpu"];
  const failures: string[] = [];
  for (const name of order) {
    const why = await tryBackend(name, opts.wasmFixes ?? true);
    if (why === null) {
      await tf.ready();
      active = name;
      return name;
    }
    failures.push(`${name}: ${why}`);
  }
  throw new BackendUnavailableError(`no TensorFlow.js backend could be initialised (${failures.join("; ")})`);
}

/** The engine a run is trained with, as its provenance records it (contracts' ZProvenance.backend). */
export type BackendDescription = TProvenance["backend"];

/**
 * The active backend with its version: @tensorflow/tfjs's release (its packages share one
 * version), tfjs-node's and the TensorFlow C library's for the native TensorFlow backends.
 * Each lookup is best-effort: an unknown version is null, never an error.
 */
export async function describeBackend(): Promise<BackendDescription> {
  const name = active ?? (tf.getBackend() as BackendName);
  const libraries: BackendDescription["libraries"] = [];
  let version: string | null = tf.version.tfjs ?? null;
  if (name === "tensorflow" || name === "tensorflow-gpu") {
    try {
      const node = (await import(name === "tensorflow" ? TFJS_NODE : TFJS_NODE_GPU)) as {
        version?: Record<string, string>;
      };
      version = node.version?.["tfjs-node"] ?? node.version?.["tfjs-node-gpu"] ?? version;
      const binding = (tf.backend() as { binding?: { TF_Version?: string } }).binding;
      libraries.push({
        name: "libtensorflow",
        version: binding?.TF_Version ?? null,
        core: null,
        threads: null,
      });
    } catch {
      // The backend is active, so its package loaded; without a version it is still recorded.
    }
  } else if (name === "wasm") {
    try {
      const wasm = (await import("@tensorflow/tfjs-backend-wasm")) as { version_wasm?: string };
      version = wasm.version_wasm ?? version;
    } catch {
      // As above.
    }
  }
  return { name, version, libraries };
}
