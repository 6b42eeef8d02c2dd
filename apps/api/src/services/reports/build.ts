import type { TProvenance, TReport, TReportProvenance, TVariantReport } from "@actlab/contracts";
import {
  ACTIVATIONS,
  CHAPTER8_FIGURES,
  cellLabel,
  cellLeader,
  comparisonStatement,
  gradientVerdict,
  leaderStatement,
  PRESETS,
  resolveExperimentRequest,
  SWEEP_PATH_LABELS,
  splitSizes,
  sweepCells,
  type TCell,
  type TExperimentSpec,
  type TExperimentStatus,
  type TRunStatus,
  type TSweepPath,
  type TVariant,
  VANISHING_RATIO,
  variantLabel,
} from "@actlab/contracts";
import { describeSample } from "@actlab/stats";
import { canonicalJson } from "../canonical-json.js";
import { compareVariants, summarizeCells } from "./summary.js";

/** What the report is computed from: plain rows, so the builder is a pure function. */
export interface ReportInput {
  experiment: {
    id: string;
    name: string;
    status: TExperimentStatus;
    spec: TExperimentSpec;
    createdAt: Date;
    startedAt: Date | null;
    finishedAt: Date | null;
  };
  runs: readonly ReportRun[];
  metrics: readonly ReportEpoch[];
}

export interface ReportRun {
  id: string;
  cellIndex: number;
  variantIndex: number;
  repeat: number;
  status: TRunStatus;
  backend: string | null;
  epochsCompleted: number;
  testAccuracy: number | null;
  testLoss: number | null;
  seconds: number | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  provenance: TProvenance | null;
}

export interface ReportEpoch {
  runId: string;
  epoch: number;
  testAccuracy: number;
  gradNorms: readonly number[];
  deadFraction: readonly number[];
  saturatedFraction: readonly number[];
}

/** The accuracy "epochs to reach" is measured against. */
export const TARGET_ACCURACY = 0.9;
/** A net at chance whose largest layer gradient norm is below this has barely left its start. */
export const STUCK_GRADIENT = 0.05;
/** The activations' flags (contracts' ACTIVATIONS): dead units count for ReLU-like ones, saturation for bounded ones. */
const isReluLike = (a: TVariant["activation"]) => ACTIVATIONS[a].reluLike;
const isSaturating = (a: TVariant["activation"]) => ACTIVATIONS[a].saturating;

const finite = (xs: readonly (number | null | undefined)[]): number[] =>
  xs.filter((x): x is number => typeof x === "number" && Number.isFinite(x));

export function mean(xs: readonly number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** Geometric mean of positive values (ratios span decades, so the arithmetic mean would mislead). */
export function geomean(xs: readonly number[]): number | null {
  const pos = xs.filter((x) => x > 0 && Number.isFinite(x));
  if (!pos.length) return null;
  return Math.exp(pos.reduce((a, x) => a + Math.log(x), 0) / pos.length);
}

export const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)}%`;

/** Plain-language verdict from the numbers of one variant. */
export function verdictFor(v: Omit<TVariantReport, "verdict">, epochs: number): string {
  const { activation } = v.variant;
  if (v.runs.succeeded === 0) {
    const states = Object.entries(v.runs.byStatus)
      .map(([s, n]) => `${n} ${s}`)
      .join(", ");
    return `no finished run yet (${states})`;
  }
  const parts: string[] = [];
  const acc = v.testAccuracy.mean;
  const after = `after ${v.epochs ?? epochs} epochs`;
  if (acc === null) parts.push("no valid accuracy (the loss became NaN: training diverged)");
  else if (acc < 0.2) parts.push(`did not learn: ${pct(acc)} ${after} (chance is 10%)`);
  else if (v.epochsTo90.reached === v.epochsTo90.of && v.epochsTo90.mean !== null)
    parts.push(`learns: ${pct(acc)}, 90% by epoch ${Math.round(v.epochsTo90.mean)}`);
  else if (v.epochsTo90.reached > 0)
    parts.push(`learns: ${pct(acc)}, 90% in ${v.epochsTo90.reached} of ${v.epochsTo90.of} runs`);
  else parts.push(`learns slowly: ${pct(acc)} ${after}, never 90%`);

  const r = v.gradNormRatio.geomean;
  if (v.gradientVerdict) parts.push(v.gradientVerdict);
  // Stuck without a vanishing ratio: every layer's gradient is small, the net has barely moved.
  const largest = Math.max(0, ...v.gradNorms);
  if (
    acc !== null &&
    acc < 0.2 &&
    largest > 0 &&
    largest < STUCK_GRADIENT &&
    (r === null || r >= VANISHING_RATIO)
  )
    parts.push(
      `every layer's gradient is small (largest ${largest.toExponential(1)}): stuck near its starting point`,
    );
  if (isReluLike(activation) && v.deadFraction !== null && v.deadFraction >= 0.05)
    parts.push(
      activation === "relu"
        ? `${pct(v.deadFraction, 0)} of units dead`
        : // A negative slope still passes a gradient: "never positive" is not dead here.
          `${pct(v.deadFraction, 0)} of units never positive (the negative slope keeps them learning)`,
    );
  if (isSaturating(activation) && v.saturatedFraction !== null && v.saturatedFraction >= 0.2)
    parts.push(`${pct(v.saturatedFraction, 0)} of units saturated`);
  return parts.join("; ");
}

/**
 * What makes a setup one of the chapter's codes: the data, the network and its initial weights,
 * the optimizer and the batch size. Epochs, repeats, variants and seeds may differ (shortening a
 * preset's epochs still runs the chapter's code); any other change makes it a setup of its own.
 */
function chapterSetup(spec: TExperimentSpec): string {
  const { dataset, model, training } = spec;
  return canonicalJson({
    dataset: { ...dataset, seed: undefined },
    model,
    optimizer: withoutUnused(training.optimizer),
    batchSize: training.batchSize,
  });
}

const withoutUnused = (o: TExperimentSpec["training"]["optimizer"]) =>
  o.name === "momentum" ? o : { name: o.name, learningRate: o.learningRate };

const CHAPTER_SETUPS = PRESETS.flatMap((p) => {
  const resolved = resolveExperimentRequest({ preset: p.id });
  const code = p.id.startsWith("chapter8-tf") ? "tf" : p.id.startsWith("chapter8-keras") ? "keras" : null;
  return resolved.ok && code ? [{ code, setup: chapterSetup(resolved.spec) } as const] : [];
});

/** Which of the chapter's codes this experiment runs, if it runs one unchanged (see chapterSetup). */
function chapterCode(spec: TExperimentSpec): "keras" | "tf" | null {
  const setup = chapterSetup(spec);
  return CHAPTER_SETUPS.find((c) => c.setup === setup)?.code ?? null;
}

function variantReport({
  variant,
  cell,
  runs,
  byRun,
  epochs,
  accuracyCi95,
}: {
  variant: TVariant;
  cell: TCell;
  runs: readonly ReportRun[];
  byRun: ReadonlyMap<string, readonly ReportEpoch[]>;
  epochs: number;
  /** The summary's interval of the mean accuracy (summary.ts: t over repeats, binomial for one run). */
  accuracyCi95: number[] | null;
}): TVariantReport {
  const sorted = [...runs].sort((a, b) => a.repeat - b.repeat);
  const done = sorted.filter((r) => r.status === "succeeded");
  const byStatus: Record<string, number> = {};
  for (const r of sorted) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;

  const accuracy = finite(done.map((r) => r.testAccuracy));
  const loss = finite(done.map((r) => r.testLoss));
  // Epochs to 90%, gradients and dead units come from succeeded runs' per-epoch rows.
  const to90 = done.map((r) => {
    const hit = (byRun.get(r.id) ?? []).find((m) => m.testAccuracy >= TARGET_ACCURACY);
    return hit ? hit.epoch : null;
  });
  const finals = done.map((r) => (byRun.get(r.id) ?? []).at(-1)).filter((m) => m !== undefined);
  const ratios = finite(
    finals.map((m) =>
      m.gradNorms.length >= 2 ? m.gradNorms[0]! / m.gradNorms[m.gradNorms.length - 1]! : null,
    ),
  );
  const layers = Math.max(0, ...finals.map((m) => m.gradNorms.length));
  const gradNorms = Array.from(
    { length: layers },
    (_, i) => geomean(finite(finals.map((m) => m.gradNorms[i]))) ?? 0,
  );
  const layerMean = (xs: readonly number[]) => mean(finite(xs));
  const dead = isReluLike(variant.activation)
    ? mean(finite(finals.map((m) => layerMean(m.deadFraction))))
    : null;
  const saturated = mean(finite(finals.map((m) => layerMean(m.saturatedFraction))));
  const seconds = finite(done.map((r) => r.seconds));
  const epochsDone = done.length ? Math.min(...done.map((r) => r.epochsCompleted)) : null;
  const reached = finite(to90);
  const secondsMean = mean(seconds);
  const acc = describeSample(accuracy);
  const ratio = geomean(ratios);

  const partial: Omit<TVariantReport, "verdict"> = {
    variant,
    cell,
    label: variantLabel(variant),
    runs: { total: sorted.length, succeeded: done.length, byStatus },
    epochs: epochsDone,
    testAccuracy: {
      mean: acc.mean,
      std: acc.std,
      values: accuracy,
      ci95: accuracyCi95,
    },
    testLoss: { mean: mean(loss), std: describeSample(loss).std },
    chapter: [...(CHAPTER8_FIGURES[variant.activation] ?? [])],
    epochsTo90: { mean: mean(reached), reached: reached.length, of: done.length, values: to90 },
    seconds: {
      mean: secondsMean,
      perEpoch: secondsMean !== null && epochsDone ? secondsMean / epochsDone : null,
    },
    gradNorms,
    gradNormRatio: { geomean: ratio, values: ratios },
    deadFraction: dead,
    saturatedFraction: saturated,
    gradientVerdict: gradientVerdict(ratio),
  };
  return { ...partial, verdict: verdictFor(partial, epochs) };
}

/**
 * The distinct set-ups that trained the runs (a run's provenance without its worker), each with
 * its number of runs, workers and hosts, most runs first: one entry when the numbers are comparable.
 */
export function provenanceGroups(runs: readonly ReportRun[]): TReportProvenance[] {
  const groups = new Map<
    string,
    { setup: Omit<TProvenance, "worker">; runs: number; workers: Set<string>; hosts: Set<string> }
  >();
  for (const run of runs) {
    if (!run.provenance) continue;
    const { worker, ...setup } = run.provenance;
    const key = JSON.stringify(setup);
    const group = groups.get(key) ?? { setup, runs: 0, workers: new Set(), hosts: new Set() };
    group.runs++;
    group.workers.add(worker.id);
    group.hosts.add(worker.hostname);
    groups.set(key, group);
  }
  return [...groups.values()]
    .sort((a, b) => b.runs - a.runs)
    .map((g) => ({ ...g.setup, runs: g.runs, workers: g.workers.size, hosts: [...g.hosts].sort() }));
}

/** The chapter-style report of one experiment: a pure function of its rows. */
export function buildReport({ experiment, runs, metrics }: ReportInput): TReport {
  const { spec } = experiment;
  const byRun = new Map<string, ReportEpoch[]>();
  for (const m of [...metrics].sort((a, b) => a.epoch - b.epoch)) {
    const list = byRun.get(m.runId);
    if (list) list.push(m);
    else byRun.set(m.runId, [m]);
  }
  const cells = sweepCells(spec);
  const summary = summarizeCells(spec, runs, new Map());
  const variants = cells.flatMap((cell, cellIndex) =>
    spec.variants.map((variant, variantIndex) =>
      variantReport({
        variant,
        cell,
        runs: runs.filter((r) => r.cellIndex === cellIndex && r.variantIndex === variantIndex),
        byRun,
        epochs: spec.training.epochs,
        accuracyCi95: summary[cellIndex * spec.variants.length + variantIndex]?.testAccuracy.ci95 ?? null,
      }),
    ),
  );
  const comparisons = compareVariants(spec, runs).map((c) => ({ ...c, statement: comparisonStatement(c) }));
  const { train, test } = splitSizes(spec.dataset);
  const starts = runs.map((r) => r.startedAt?.getTime()).filter((t): t is number => t !== undefined);
  const ends = runs.map((r) => r.finishedAt?.getTime()).filter((t): t is number => t !== undefined);
  // Wall time only once every run is over (a pure function has no "now" to measure a running one by).
  const over = runs.length > 0 && runs.every((r) => !["queued", "running"].includes(r.status));
  const start = experiment.startedAt?.getTime() ?? (starts.length ? Math.min(...starts) : null);
  const end = over ? (experiment.finishedAt?.getTime() ?? (ends.length ? Math.max(...ends) : null)) : null;
  const { optimizer } = spec.training;
  const init = spec.model.initializer;

  const notes: string[] = [];
  const unfinished = runs.filter((r) => r.status === "queued" || r.status === "running").length;
  if (unfinished)
    notes.push(
      `${unfinished} of ${runs.length} runs are not finished: the numbers cover finished runs only.`,
    );
  const failed = runs.filter((r) => r.status === "failed" || r.status === "canceled").length;
  if (failed) notes.push(`${failed} run(s) failed or were canceled and are left out of the means.`);
  notes.push(
    "Accuracy is the final epoch's test accuracy, mean ± sample std over repeats with the t 95% interval " +
      "(a single run: the exact binomial interval of its test set); comparisons are paired t-tests on the " +
      "repeats two variants share (same seeds), Holm-adjusted over every pair of the experiment. Gradient norms are " +
      "L2 norms of each layer's kernel gradient on a fixed probe batch at the final epoch, geometric mean over repeats.",
  );
  if (variants.some((v) => v.chapter.length))
    notes.push(
      `The chapter's figures are single runs on a 10,000-digit sample of the 70,000-digit MNIST, raw 0–255 pixels, ` +
        `mostly after more epochs (Keras tanh/ReLU: 1000, TF: 50, Keras LeakyReLU/PReLU: 20).`,
    );

  return {
    experiment: {
      id: experiment.id,
      name: experiment.name,
      status: experiment.status,
      createdAt: experiment.createdAt.toISOString(),
      startedAt: experiment.startedAt?.toISOString() ?? null,
      finishedAt: experiment.finishedAt?.toISOString() ?? null,
      wallSeconds: start !== null && end !== null && end >= start ? (end - start) / 1000 : null,
    },
    setup: {
      dataset: spec.dataset.name,
      samples: spec.dataset.samples,
      train,
      test,
      pixelScale: spec.dataset.pixelScale,
      network: spec.sweep["model.hiddenLayers"]
        ? `784-${spec.model.units}×layers-10`
        : `784-${Array(spec.model.hiddenLayers).fill(spec.model.units).join("-")}-10`,
      sweep: describeSweep(spec),
      initializer: init.name === "truncated_normal" ? `truncated_normal(stddev=${init.stddev})` : init.name,
      optimizer: `${optimizer.name} lr=${optimizer.learningRate}${optimizer.name === "momentum" ? ` momentum=${optimizer.momentum}` : ""}`,
      epochs: spec.training.epochs,
      batchSize: spec.training.batchSize,
      repeats: spec.training.repeats,
      backends: [...new Set(runs.map((r) => r.backend).filter((b): b is string => !!b))].sort(),
      code: chapterCode(spec),
    },
    variants,
    comparisons,
    cells: cells.map((cell) => {
      const leader = cellLeader(summary, comparisons, cell);
      const label = cellLabel(cell);
      const name = leader ? variantLabel(leader.variant) : null;
      return { cell, label, leader: name, statement: `${label ? `${label}: ` : ""}${leaderStatement(name)}` };
    }),
    provenance: provenanceGroups(runs),
    notes,
  };
}

/** "layers ∈ {1, 2, 4}; lr ∈ {0.01, 0.1}", or null without a sweep. */
function describeSweep(spec: TExperimentSpec): string | null {
  const axes = Object.entries(spec.sweep).filter(([, values]) => values?.length);
  if (!axes.length) return null;
  return axes
    .map(([path, values]) => {
      const labels = (values as unknown[]).map((v) =>
        cellLabel({ [path]: v })
          .split("=")
          .slice(1)
          .join("="),
      );
      return `${SWEEP_PATH_LABELS[path as TSweepPath]} ∈ {${labels.join(", ")}}`;
    })
    .join("; ");
}
