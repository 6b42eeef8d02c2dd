/**
 * The chapter's experiment on the `mnist` package's digits: trains the chapter8-keras preset
 * (784-200×4-10, glorot_uniform, SGD 0.01, batch 100, 8,000/2,000 split) for relu, tanh and
 * sigmoid and prints, per epoch, test accuracy and the first and last layers' gradient norms
 * on the probe batch — the vanishing-gradient picture.
 *
 * usage: npx tsx --conditions=source packages/trainer/bench/chapter.ts [--epochs 30]
 *        [--activations relu,tanh,sigmoid] [--preset chapter8-keras] [--backend wasm]
 */
import { parseArgs } from "node:util";
import { findPreset, type TEpochMetrics, ZExperimentSpec } from "@actlab/contracts";
import { type BackendName, initBackend, loadDataset, trainRun } from "../src/index.js";

const { values } = parseArgs({
  options: {
    epochs: { type: "string", default: "30" },
    activations: { type: "string", default: "relu,tanh,sigmoid" },
    preset: { type: "string", default: "chapter8-keras" },
    backend: { type: "string" },
    seed: { type: "string", default: "1" },
  },
});
const preset = findPreset(values.preset ?? "");
if (!preset) throw new Error(`unknown preset ${values.preset}`);
const spec = ZExperimentSpec.parse({
  ...preset.spec,
  variants: (values.activations ?? "").split(",").map((activation) => ({ activation })),
  training: { ...preset.spec.training, epochs: Number(values.epochs), repeats: 1 },
});
const backend = await initBackend({
  device: "cpu",
  ...(values.backend ? { force: values.backend as BackendName } : {}),
});
const dataset = await loadDataset(spec.dataset);
console.log(
  `${preset.title}, ${spec.training.epochs} epochs, ${dataset.nTrain} train / ${dataset.nTest} test digits, backend ${backend}, seed ${values.seed}`,
);

const summary: string[] = [];
const exp = (x: number) => x.toExponential(2);
for (const variant of spec.variants) {
  console.log(`\n## ${variant.activation}`);
  console.log(
    "epoch | train loss | train acc | test acc | ‖∇W₁‖ | ‖∇W_out‖ | first/last | dead | saturated | s",
  );
  let last: TEpochMetrics | null = null;
  const result = await trainRun({
    spec,
    variant,
    seed: Number(values.seed),
    dataset,
    onEpoch: async (m) => {
      last = m;
      const first = m.gradNorms[0] as number;
      const out = m.gradNorms.at(-1) as number;
      const mean = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2);
      console.log(
        `${String(m.epoch).padStart(5)} | ${m.trainLoss.toFixed(4)} | ${m.trainAccuracy.toFixed(4)} | ${m.testAccuracy.toFixed(4)} | ${exp(first)} | ${exp(out)} | ${exp(first / out)} | ${mean(m.deadFraction)} | ${mean(m.saturatedFraction)} | ${m.seconds.toFixed(2)}`,
      );
    },
  });
  const l = last as TEpochMetrics | null;
  if (l) {
    summary.push(
      `| ${variant.activation} | ${l.epoch} | ${l.testAccuracy.toFixed(4)} | ${l.gradNorms.map(exp).join(", ")} | ${exp((l.gradNorms[0] as number) / (l.gradNorms.at(-1) as number))} | ${result.seconds.toFixed(0)} |`,
    );
  }
}
console.log(
  "\n| activation | epochs | test accuracy | gradient norms, input layer → output layer | first/last | seconds |",
);
console.log("|---|---|---|---|---|---|");
for (const s of summary) console.log(s);
