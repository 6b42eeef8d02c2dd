import { z } from "zod";

/*
 * What produced a run, recorded by the worker that trained it (at start, per attempt: a resumed
 * run shows the attempt that finished it). Enough to tell whether two runs' numbers may be
 * compared: same code, same engine, same kind of machine.
 */

/** A numerical library under the backend (OpenBLAS under the native engine). */
export const ZProvenanceLibrary = z.strictObject({
  name: z.string(),
  version: z.string().nullable(),
  /** The kernel set it chose for this CPU (OpenBLAS's core, e.g. `Haswell`), when it says. */
  core: z.string().nullable(),
  threads: z.number().int().nullable(),
});

export const ZProvenance = z.strictObject({
  actlab: z.strictObject({
    version: z.string(),
    /** Git commit of the checkout, or ACTLAB_COMMIT where there is no .git (images); null if unknown. */
    commit: z.string().nullable(),
    /** Uncommitted changes to tracked files when the worker started; null if unknown. */
    dirty: z.boolean().nullable(),
  }),
  backend: z.strictObject({
    /** As Run.backend: `native`, `tensorflow`, `wasm`, `cpu`, … */
    name: z.string(),
    /** The engine's version: @tensorflow/tfjs-core's for TensorFlow.js backends, the addon's for native. */
    version: z.string().nullable(),
    /** Libraries the engine computes with (empty for TensorFlow.js backends). */
    libraries: z.array(ZProvenanceLibrary),
  }),
  node: z.string().describe("process.version"),
  platform: z.string().describe("os-arch, e.g. linux-x64"),
  cpu: z.strictObject({ model: z.string(), cores: z.number().int() }),
  worker: z.strictObject({ id: z.string(), hostname: z.string() }),
});
export type TProvenance = z.infer<typeof ZProvenance>;
