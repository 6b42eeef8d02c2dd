/**
 * npm run bench:train — speed of the chapter's network (784-200-200-200-200-10, 8,000 training
 * samples, batch 100, SGD 0.01) per activation, in one run: the native engine (@actlab/native,
 * OpenBLAS), TF.js on wasm (with actlab's kernel fixes) and PyTorch
 * (/work/shared/bench/torch_mlp.py --threads 1). For actlab: median seconds per epoch of the
 * training loop (after a warm-up epoch) and of the full epoch (training + evaluation + probe
 * metrics + the checkpoint snapshot; the metric writes run in the worker's main thread,
 * pipelined). PyTorch runs with OPENBLAS_NUM_THREADS=1 and OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE
 * unset, as the issue asks, printing the BLAS and the core OpenBLAS chose; because OpenBLAS 0.3.21
 * does not recognise this CPU and falls back to Prescott (SSE3) kernels, PyTorch is also timed
 * with OPENBLAS_CORETYPE=SkylakeX — the kernels the native engine picks — and the ratios are
 * against the faster of the two. The load average is printed before and after: the machine is shared.
 *
 * usage: bench/train.ts [--epochs 3] [--activations relu,tanh,sigmoid] [--no-wasm] [--no-torch]
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { type TActivationName, type TVariant, ZExperimentSpec } from "@actlab/contracts";
import * as tf from "@tensorflow/tfjs";
import { type BackendName, initBackend, loadDataset, nativeBlasInfo, trainRun } from "../src/index.js";

const { values } = parseArgs({
  options: {
    epochs: { type: "string", default: "3" },
    activations: { type: "string", default: "relu,tanh,sigmoid" },
    wasm: { type: "boolean", default: true },
    torch: { type: "boolean", default: true },
  },
  allowNegative: true,
});
const epochs = Math.max(1, Number(values.epochs));
const activations = (values.activations ?? "").split(",") as TActivationName[];
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
const loadBefore = load();

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

// The native engine first (loads the addon and OpenBLAS), then TF.js on wasm for its own runs;
// trainRun's `backend` picks the engine per run.
await initBackend({ device: "cpu", force: "native" });
const blas = nativeBlasInfo();
const engines: BackendName[] = ["native"];
if (values.wasm) {
  await initBackend({ device: "cpu", force: "wasm" });
  engines.push("wasm");
}
const spec = ZExperimentSpec.parse({
  name: "bench",
  dataset: { name: "mnist", samples: 10_000, testFraction: 0.2, seed: 1 },
  model: { hiddenLayers: 4, units: 200, initializer: { name: "glorot_uniform" } },
  variants: activations.map((activation) => ({ activation })),
  training: {
    optimizer: { name: "sgd", learningRate: 0.01 },
    epochs: epochs + 1,
    batchSize: 100,
    seed: 1,
    repeats: 1,
  },
});
const dataset = await loadDataset(spec.dataset);

/** Median training-loop and full-epoch seconds of one engine on one variant. */
async function timeEngine(backend: BackendName, variant: TVariant) {
  const train: number[] = [];
  const full: number[] = [];
  let t0 = 0;
  await trainRun({
    spec,
    variant,
    seed: 1,
    dataset,
    backend,
    // onBatch runs after each batch: time batches 2…N and scale by N/(N−1).
    onBatch: ({ batch, batches }) => {
      if (batch === 1) t0 = performance.now();
      if (batch === batches) train.push(((performance.now() - t0) / 1000) * (batches / (batches - 1)));
    },
    onEpoch: async (m) => {
      if (m.epoch === 1) {
        train.length = 0; // warm-up
        return;
      }
      full.push(m.seconds);
      process.stderr.write(
        `${backend} ${variant.activation} epoch ${m.epoch}: train ${train.at(-1)?.toFixed(3)} s, full ${m.seconds.toFixed(3)} s, test acc ${m.testAccuracy.toFixed(3)}\n`,
      );
    },
  });
  return { train: median(train), full: median(full) };
}

function findPython(): string | null {
  for (const py of ["python3", "/usr/bin/python3"]) {
    try {
      execFileSync(py, ["-c", "import torch"], { stdio: "ignore" });
      return py;
    } catch {
      // the next one (a pyenv python3 shadows Debian's, which has python3-torch)
    }
  }
  return null;
}
// The yardstick lives beside the repositories on these machines (/work/shared/bench).
const torchScript =
  [
    resolve(import.meta.dirname, "../../../../shared/bench/torch_mlp.py"),
    "/work/shared/bench/torch_mlp.py",
  ].find(existsSync) ?? "";
const python = values.torch && torchScript ? findPython() : null;

/** PyTorch's OpenBLAS run: `coretype` null leaves OPENBLAS_CORETYPE unset (OpenBLAS detects the core). */
const TORCH_RUNS = [
  { label: "PyTorch (core auto)", coretype: null },
  { label: "PyTorch (SkylakeX)", coretype: "SkylakeX" },
] as const;
interface TorchResult {
  seconds: number;
  blas: string;
  core: string;
}
function torchSecondsPerEpoch(activation: string, coretype: string | null): TorchResult {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OPENBLAS_NUM_THREADS: "1",
    OMP_NUM_THREADS: "1",
    LD_LIBRARY_PATH: "/usr/lib/x86_64-linux-gnu/openblas-pthread",
  };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  if (coretype) env.OPENBLAS_CORETYPE = coretype;
  const argv = [
    torchScript,
    "--activation",
    activation,
    "--epochs",
    String(Math.max(3, epochs)),
    "--threads",
    "1",
  ];
  // torch_mlp.py unchanged; afterwards, ask the BLAS torch loaded which core it runs.
  const driver = [
    "import ctypes, io, json, runpy, sys, contextlib",
    `sys.argv = ${JSON.stringify(argv)}`,
    "out = io.StringIO()",
    "with contextlib.redirect_stdout(out):",
    `    runpy.run_path(${JSON.stringify(torchScript)}, run_name="__main__")`,
    "r = json.loads(out.getvalue().strip().splitlines()[-1])",
    "try:",
    "    lib = ctypes.CDLL('libblas.so.3'); lib.openblas_get_corename.restype = ctypes.c_char_p",
    "    lib.openblas_get_config.restype = ctypes.c_char_p",
    "    r['core'] = lib.openblas_get_corename().decode(); r['blas'] = lib.openblas_get_config().decode()",
    "except Exception as e:",
    "    r['core'] = 'unknown'; r['blas'] = 'not OpenBLAS (%s)' % e",
    "print(json.dumps(r))",
  ].join("\n");
  const out = execFileSync(python as string, ["-c", driver], { encoding: "utf8", env });
  const r = JSON.parse(out.trim().split("\n").pop() ?? "{}") as {
    seconds_per_epoch: number;
    blas: string;
    core: string;
  };
  return { seconds: r.seconds_per_epoch, blas: r.blas, core: r.core };
}

interface Row {
  activation: string;
  engines: Partial<Record<BackendName, { train: number; full: number }>>;
  torch: TorchResult[];
}
const rows: Row[] = [];
for (const variant of spec.variants as TVariant[]) {
  const row: Row = { activation: variant.activation, engines: {}, torch: [] };
  for (const e of engines) row.engines[e] = await timeEngine(e, variant);
  if (python)
    for (const t of TORCH_RUNS) row.torch.push(torchSecondsPerEpoch(variant.activation, t.coretype));
  rows.push(row);
}

console.log(
  `\nactlab bench:train — ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${cpus()[0]?.model ?? "unknown CPU"} (${cpus().length} cores), Node ${process.version}, tfjs ${tf.version.tfjs}`,
);
console.log(
  `native engine: OpenBLAS core ${blas?.corename} (${blas?.config}), ${blas?.threads} thread${blas?.ignoredEnv ? `; ignored ${blas.ignoredEnv}` : ""}`,
);
const torchInfo = rows[0]?.torch ?? [];
TORCH_RUNS.forEach((t, i) => {
  const r = torchInfo[i];
  if (r) console.log(`${t.label}: ${r.blas}, core ${r.core}, OPENBLAS_NUM_THREADS=1, --threads 1`);
});
console.log(
  `784-200-200-200-200-10, 8,000 samples, batch 100, SGD 0.01; medians of ${epochs} epochs after 1 warm-up\n`,
);
const header = [
  "activation",
  ...engines.flatMap((e) => [`${e} train s/epoch`, `${e} full s/epoch`]),
  ...(python ? TORCH_RUNS.map((t) => `${t.label} s/epoch`) : []),
  ...(python ? engines.flatMap((e) => [`${e} train / PyTorch`, `${e} full / PyTorch`]) : []),
];
console.log(`| ${header.join(" | ")} |`);
console.log(`|${header.map(() => "---|").join("")}`);
for (const r of rows) {
  const best = Math.min(...r.torch.map((t) => t.seconds));
  const cells = [
    r.activation,
    ...engines.flatMap((e) => [r.engines[e]?.train.toFixed(3), r.engines[e]?.full.toFixed(3)]),
    ...r.torch.map((t) => t.seconds.toFixed(3)),
    ...(python
      ? engines.flatMap((e) => [
          ((r.engines[e]?.train ?? Number.NaN) / best).toFixed(2),
          ((r.engines[e]?.full ?? Number.NaN) / best).toFixed(2),
        ])
      : []),
  ];
  console.log(`| ${cells.join(" | ")} |`);
}
if (python)
  console.log("\nRatios are against the faster PyTorch run of the row (targets: train ≤ 0.75, full ≤ 1.0).");
else if (values.torch)
  console.log("\n(no PyTorch found: `apt-get install -y python3-torch libopenblas0-pthread` to compare)");
console.log(`\nload average before: ${loadBefore}; after: ${load()} (2 cores; figures are noisy above ~2)`);
