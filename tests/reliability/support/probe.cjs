// Loaded into every worker process (and, through `--require`, into its training thread, which
// `--import` would not reach on Node 20): appends RSS, heap and the TensorFlow.js tensor count
// of this thread to RELIABILITY_PROBE_FILE every RELIABILITY_PROBE_MS. It reads tfjs' engine
// from the global namespace (where tfjs-core keeps it), so the worker's code is not changed.
const { appendFileSync } = require("node:fs");
const { isMainThread } = require("node:worker_threads");

const file = process.env.RELIABILITY_PROBE_FILE;
const every = Number(process.env.RELIABILITY_PROBE_MS || 1000);
if (file) {
  const sample = () => {
    const engine = globalThis._tfengine;
    let tensors = null;
    try {
      tensors = engine ? engine.memory().numTensors : null;
    } catch {
      tensors = null;
    }
    // The wasm backend's linear memory (it only ever grows; part of RSS, invisible to the JS heap).
    let wasm = null;
    try {
      const b = engine?.backendInstance ?? engine?.registry?.wasm;
      wasm = b?.wasm?.HEAPU8?.buffer?.byteLength ?? null;
    } catch {
      wasm = null;
    }
    const mem = process.memoryUsage();
    const line = {
      t: Date.now(),
      pid: process.pid,
      main: isMainThread,
      rss: mem.rss,
      heap: mem.heapUsed,
      tensors,
      wasm,
      external: mem.external + mem.arrayBuffers,
    };
    try {
      appendFileSync(file, `${JSON.stringify(line)}\n`);
    } catch {
      // the test may have removed its directory already
    }
  };
  setInterval(sample, every).unref();
}
