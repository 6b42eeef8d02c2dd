// Loaded into every worker process (and, through `--require`, into its training thread, which
// `--import` would not reach on Node 20): appends RSS, heap and the TensorFlow.js tensor count
// of this thread to RELIABILITY_PROBE_FILE every RELIABILITY_PROBE_MS. It reads tfjs' engine
// from the global namespace (where tfjs-core keeps it), so the worker's code is not changed.
const { appendFileSync, readFileSync } = require("node:fs");
const { PerformanceObserver, constants } = require("node:perf_hooks");
const { isMainThread } = require("node:worker_threads");

const file = process.env.RELIABILITY_PROBE_FILE;
const every = Number(process.env.RELIABILITY_PROBE_MS || 1000);
if (file) {
  // heapUsed at a random moment is mostly garbage not yet collected (V8 lets the old space
  // grow before a major GC), so it says little about a leak. The heap just after this thread's
  // last major (mark-sweep-compact) GC is what a leak raises.
  let afterMajorGc = null;
  let majorGcs = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        majorGcs++;
        afterMajorGc = process.memoryUsage().heapUsed;
      }
    }
  }).observe({ entryTypes: ["gc"] });
  const anon = () => {
    try {
      const m = /RssAnon:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
      return m ? Number(m[1]) * 1024 : null;
    } catch {
      return null;
    }
  };
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
      heapTotal: mem.heapTotal,
      heapAfterGc: afterMajorGc,
      majorGcs,
      tensors,
      wasm,
      external: mem.external + mem.arrayBuffers,
      ...(isMainThread ? { rssAnon: anon() } : {}),
    };
    try {
      appendFileSync(file, `${JSON.stringify(line)}\n`);
    } catch {
      // the test may have removed its directory already
    }
  };
  setInterval(sample, every).unref();
}
