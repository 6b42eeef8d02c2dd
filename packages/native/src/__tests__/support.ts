import { beforeAll } from "vitest";
import { type EngineConfig, loadNative, NativeEngine } from "../index.js";

/** Fails the file's tests up front, saying why, when the addon is not built. */
export function requireAddon(): void {
  beforeAll(() => {
    const loaded = loadNative();
    if (!loaded.ok) throw new Error(`the addon must be built for these tests: ${loaded.error}`);
  });
}

/**
 * Runs `use` on an engine of `config` whose parameters start at the same fixed values every time
 * (cos(1.3·i)·0.3, optimizer slots zero), and frees it after.
 */
export function withSeededEngine<T>(config: EngineConfig, use: (e: NativeEngine) => T): T {
  const e = new NativeEngine(config);
  try {
    const init = new Float32Array(e.stateFloats);
    for (let i = 0; i < e.paramFloats; i++) init[i] = Math.cos(i * 1.3) * 0.3;
    e.setState(init, { iterations: 0, accBeta1: 0.9, accBeta2: 0.999 });
    return use(e);
  } finally {
    e.dispose();
  }
}
