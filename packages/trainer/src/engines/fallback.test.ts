import { existsSync } from "node:fs";
import { DEFAULT_ADDON_PATH } from "@actlab/native";
import { describe, expect, it } from "vitest";
import { tinySpec, variantOf } from "../__tests__/support.js";
import { type BackendName, initBackend } from "../backend.js";
import { trainRun } from "../train.js";

/**
 * Without the native addon (not built: a machine without a compiler, `npm ci --ignore-scripts`;
 * or OpenBLAS missing) the CPU backend is the next one, and initBackend says why. `.ci/run` runs
 * this file in a clone installed with --ignore-scripts, where the default path has no addon.
 */
describe("native backend fallback", () => {
  it("an addon that cannot load: the next CPU backend, with the reason", async () => {
    const fallbacks: { backend: BackendName; reason: string }[] = [];
    const chosen = await initBackend({
      device: "cpu",
      nativeAddonPath: "/nonexistent/actlab_native.node",
      onFallback: (f) => fallbacks.push(f),
    });
    expect(chosen).not.toBe("native");
    expect(["tensorflow", "wasm", "cpu"]).toContain(chosen);
    expect(fallbacks[0]).toEqual({
      backend: "native",
      reason: expect.stringMatching(/not built .*actlab_native\.node is missing/),
    });
  });

  it("the default addon: native when it is built, else the next backend; a run trains either way", async () => {
    const fallbacks: { backend: BackendName; reason: string }[] = [];
    const chosen = await initBackend({ device: "cpu", onFallback: (f) => fallbacks.push(f) });
    if (existsSync(DEFAULT_ADDON_PATH)) {
      expect(chosen).toBe("native");
      expect(fallbacks).toEqual([]);
    } else {
      expect(chosen).not.toBe("native");
      expect(fallbacks[0]?.backend).toBe("native");
    }
    // The schema's default optimizer (SGD at 0.01), for one epoch.
    const spec = tinySpec({ training: { epochs: 1, optimizer: {} } });
    const r = await trainRun({
      spec,
      variant: variantOf({ activation: "relu" }),
      seed: 1,
      onEpoch: async () => {},
    });
    expect(r.backend).toBe(chosen);
    expect(r.testAccuracy).toBeGreaterThan(0);
  });
});
