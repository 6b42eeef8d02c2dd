/**
 * npm run bench:train — speed of the chapter's network (784-200-200-200-200-10, 8,000 training
 * samples, batch 100, SGD 0.01) on this machine, per activation: median seconds per epoch of
 * the training loop (≥3 epochs after a warm-up epoch), the full epoch including actlab's
 * evaluation, probe metrics and checkpoint, and peak memory; then the same network in PyTorch
 * (/work/shared/bench/torch_mlp.py --threads 1) when python3 has torch, and the ratio.
 *
 * usage: bench/train.ts [--epochs 3] [--backend wasm|cpu|tensorflow] [--activations relu,tanh,sigmoid] [--no-torch]
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type TActivationName, type TVariant, ZExperimentSpec } from "@actlab/contracts";
import * as tf from "@tensorflow/tfjs";
import { type BackendName, initBackend, loadDataset, trainRun } from "../src/index.js";

const { values } = parseArgs({
  options: {
    epochs: { type: "string", default: "3" },
    backend: { type: "string" },
    activations: { type: "string", default: "relu,tanh,sigmoid" },
    torch: { type: "boolean", default: true },
  },
  allowNegative: true,
});
const epochs = Math.max(1, Number(values.epochs));
const activations = (values.activations ?? "").split(",") as TActivationName[];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const backend = await initBackend({
  device: "cpu",
  ...(values.backend ? { force: values.backend as BackendName } : {}),
});
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

let peakRss = 0;
const sampleMemory = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};

function findPython(): string | null {
  for (const py of ["python3", "/usr/bin/python3"]) {
    try {
      execFileSync(py, ["-c", "import torch"], { stdio: "ignore" });
      return py;
    } catch {
      // try the next one
    }
  }
  return null;
}
const torchScript = resolve(import.meta.dirname, "../../../../shared/bench/torch_mlp.py");
const python = values.torch && existsSync(torchScript) ? findPython() : null;

/**
 * Debian's python3-torch calls whatever libblas.so.3 the system's alternatives point at: the
 * reference BLAS (slow) unless OpenBLAS is installed. The yardstick is the fastest PyTorch this
 * machine has, so every BLAS present is timed (chosen with LD_LIBRARY_PATH), each single-threaded
 * (--threads 1, OPENBLAS_NUM_THREADS=1).
 */
const BLAS_DIRS = {
  openblas: "/usr/lib/x86_64-linux-gnu/openblas-pthread",
  reference: "/usr/lib/x86_64-linux-gnu/blas",
} as const;
type Column = keyof typeof BLAS_DIRS | "system";
const columns: Column[] = python
  ? (() => {
      const found = (Object.keys(BLAS_DIRS) as Array<keyof typeof BLAS_DIRS>).filter((b) =>
        existsSync(join(BLAS_DIRS[b], "libblas.so.3")),
      );
      return found.length ? found : ["system"];
    })()
  : [];

function torchSecondsPerEpoch(activation: string, column: Column): { median: number; min: number } {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1" };
  if (column !== "system") env.LD_LIBRARY_PATH = BLAS_DIRS[column];
  const args = [
    torchScript,
    "--activation",
    activation,
    "--epochs",
    String(Math.max(3, epochs)),
    "--threads",
    "1",
  ];
  const out = execFileSync(python as string, args, { encoding: "utf8", env });
  const r = JSON.parse(out.trim().split("\n").pop() ?? "{}") as {
    seconds_per_epoch: number;
    epochs: number[];
  };
  return { median: r.seconds_per_epoch, min: Math.min(...r.epochs) };
}

interface Row {
  activation: string;
  train: number;
  trainMin: number;
  full: number;
  torch: Partial<Record<Column, { median: number; min: number }>>;
}
const rows: Row[] = [];
for (const variant of spec.variants as TVariant[]) {
  const trainTimes: number[] = [];
  const fullTimes: number[] = [];
  let epochStart = 0;
  let trainEnd = 0;
  await trainRun({
    spec,
    variant,
    seed: 1,
    dataset,
    onBatch: ({ batch, batches }) => {
      if (batch === 1) epochStart = performance.now();
      if (batch === batches) trainEnd = performance.now();
      if (batch % 10 === 0) sampleMemory();
    },
    onEpoch: async (m) => {
      sampleMemory();
      if (m.epoch === 1) return; // warm-up
      trainTimes.push((trainEnd - epochStart) / 1000);
      fullTimes.push(m.seconds);
      process.stderr.write(
        `${variant.activation} epoch ${m.epoch}: train ${((trainEnd - epochStart) / 1000).toFixed(3)} s, full ${m.seconds.toFixed(3)} s, test acc ${m.testAccuracy.toFixed(3)}\n`,
      );
    },
  });
  const torch: Row["torch"] = {};
  for (const c of columns) torch[c] = torchSecondsPerEpoch(variant.activation, c);
  rows.push({
    activation: variant.activation,
    train: median(trainTimes),
    trainMin: Math.min(...trainTimes),
    full: median(fullTimes),
    torch,
  });
}

const cpu = cpus()[0]?.model ?? "unknown CPU";
console.log(
  `\nactlab bench:train — ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${cpu} (${cpus().length} cores), Node ${process.version}, tfjs ${tf.version.tfjs}, backend ${backend}`,
);
console.log(
  `784-200-200-200-200-10, 8,000 samples, batch 100, SGD 0.01; median of ${epochs} epochs after 1 warm-up; PyTorch --threads 1\n`,
);
const fastest = (r: Row, k: "median" | "min") =>
  Math.min(...columns.map((c) => r.torch[c]?.[k] ?? Number.POSITIVE_INFINITY));
const header = [
  "activation",
  "actlab train s/epoch (median)",
  "actlab full epoch s (+ eval, probe metrics, checkpoint)",
  ...columns.map((c) => `PyTorch ${c} BLAS s/epoch (median)`),
  ...(columns.length ? [`ratio actlab/PyTorch${columns.length > 1 ? " (fastest)" : ""}`] : []),
  "actlab fastest epoch s",
  ...columns.map((c) => `PyTorch ${c} fastest epoch s`),
  ...(columns.length ? ["ratio of fastest epochs"] : []),
];
console.log(`| ${header.join(" | ")} |`);
console.log(`|${header.map(() => "---|").join("")}`);
for (const r of rows) {
  const cells = [r.activation, r.train.toFixed(3), r.full.toFixed(3)];
  cells.push(...columns.map((c) => r.torch[c]?.median.toFixed(3) ?? "n/a"));
  if (columns.length) cells.push((r.train / fastest(r, "median")).toFixed(2));
  cells.push(r.trainMin.toFixed(3), ...columns.map((c) => r.torch[c]?.min.toFixed(3) ?? "n/a"));
  if (columns.length) cells.push((r.trainMin / fastest(r, "min")).toFixed(2));
  console.log(`| ${cells.join(" | ")} |`);
}
if (!python) console.log("\n(no PyTorch found: `apt-get install -y python3-torch` to compare)");
console.log(
  `\npeak RSS: ${(peakRss / 2 ** 20).toFixed(0)} MB (whole process, all runs); load average at the end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
