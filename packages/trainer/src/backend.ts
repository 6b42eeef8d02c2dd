import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { TBackendName, TProvenance } from "@actlab/contracts";
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

/** @actlab/native's version (its package.json, beside this package in the workspace). */
const NATIVE_VERSION: string | null = (() => {
  try {
    const file = fileURLToPath(new URL("../../native/package.json", import.meta.url));
    return (JSON.parse(readFileSync(file, "utf8")) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
})();

/** The engine a run is trained with, as its provenance records it (contracts' ZProvenance.backend). */
export type BackendDescription = TProvenance["backend"];

/** OpenBLAS's version from its build configuration ("OpenBLAS 0.3.29 DYNAMIC_ARCH … Haswell …"). */
function openblasVersion(config: string): string | null {
  return /OpenBLAS\s+(\d[\w.]*)/.exec(config)?.[1] ?? null;
}

/**
 * The active backend with its version: for `native` the engine's package version and the
 * OpenBLAS it loaded (version, the core it chose for this CPU, its threads); for TF.js backends
 * @tensorflow/tfjs's release (its packages share one version), tfjs-node's and the TensorFlow C
 * library's for the TensorFlow backends. Each lookup is best-effort: an unknown version is null,
 * never an error.
 */
export async function describeBackend(): Promise<BackendDescription> {
  const name = active ?? (tf.getBackend() as BackendName);
  const libraries: BackendDescription["libraries"] = [];
  let version: string | null = tf.version.tfjs ?? null;
  if (name === "native") {
    version = NATIVE_VERSION;
    if (blas) {
      libraries.push({
        name: "OpenBLAS",
        version: openblasVersion(blas.config),
        core: blas.corename || null,
        threads: blas.threads,
      });
    }
  } else if (name === "tensorflow" || name === "tensorflow-gpu") {
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
