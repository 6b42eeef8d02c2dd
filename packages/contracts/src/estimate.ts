import { z } from "zod";
import type { TExperimentSpec } from "./spec.js";
import { applyCell, sweepCells, type TCell } from "./sweep.js";

/*
 * How long an experiment will train (docs/results.md, "Estimates"): the one home of the ETA arithmetic, used
 * by the API's `POST /v1/experiments/estimate` (before submitting) and by the dashboard's
 * experiment page (while it trains, from its own runs' pace).
 *
 * The model, and how far to trust it: one epoch of one run costs `epochWork` units — the
 * network's weights (≈ multiply-adds per example and pass) × (3 passes per training example:
 * forward, backward for inputs and for weights; 1 per test example). A measured run gives
 * seconds per unit; a run is estimated by its units at the pace of the measured runs nearest to
 * it in size (per-epoch costs that do not grow with the work — the probe batch's diagnostics, the
 * epoch's bookkeeping — make small runs slower per unit, so a tiny run's pace overestimates a big
 * one). This holds to within tens of percent between networks of similar size on one backend; it
 * ignores what else costs time (batch size — per-batch overhead grows as batches shrink —, the
 * activation's own cost, e.g. mish, a machine busy with other work) and assumes the workers start
 * on these runs at once (runs already queued ahead are not counted).
 */

/** Pixels of an input image (every dataset is 28×28) and classes of the output layer. */
const INPUTS = 784;
const OUTPUTS = 10;

/** The network's weights (and so its multiply-adds per example and pass); biases left out. */
export function networkWeights(model: { hiddenLayers: number; units: number }): number {
  const { hiddenLayers: l, units: u } = model;
  return INPUTS * u + (l - 1) * u * u + u * OUTPUTS;
}

/** Work units of one epoch of one run of this (cell-applied) spec. */
export function epochWork(spec: Pick<TExperimentSpec, "model" | "dataset">): number {
  const test = Math.round(spec.dataset.samples * spec.dataset.testFraction);
  const train = spec.dataset.samples - test;
  return networkWeights(spec.model) * (3 * train + test);
}

/** One measured run: training seconds over its epochs, and the work of one of its epochs. */
export interface PaceSample {
  seconds: number;
  epochs: number;
  work: number;
}

/** Measured runs a pace is taken from: the nearest in size to the run estimated. */
export const NEAREST_SAMPLES = 5;

const usable = (s: PaceSample) => s.epochs > 0 && s.work > 0 && s.seconds > 0 && Number.isFinite(s.seconds);

/**
 * Seconds per work unit for a run of `work` units per epoch: the median (robust to one run
 * slowed by a busy machine) over the NEAREST_SAMPLES measured runs closest to it in size (by
 * ratio of work), or null without a usable sample (no epoch, or no time recorded).
 */
export function secondsPerWork(samples: readonly PaceSample[], work: number): number | null {
  const distance = (s: PaceSample) => Math.abs(Math.log(s.work / work));
  const rates = samples
    .filter(usable)
    .sort((a, b) => distance(a) - distance(b))
    .slice(0, NEAREST_SAMPLES)
    .map((s) => s.seconds / (s.epochs * s.work))
    .sort((a, b) => a - b);
  if (!rates.length) return null;
  const mid = Math.floor(rates.length / 2);
  return rates.length % 2 ? rates[mid]! : (rates[mid - 1]! + rates[mid]!) / 2;
}

/**
 * Wall-clock seconds until `jobs` (each a run's seconds, indivisible) are done on `workers`
 * workers that are free after `busy` seconds (one entry per busy worker, the rest free now):
 * longest first onto the worker free soonest, as a queue with idle workers roughly runs them.
 */
export function makespan(jobs: readonly number[], workers: number, busy: readonly number[] = []): number {
  const free = Array.from({ length: Math.max(1, workers) }, (_, i) => busy[i] ?? 0);
  for (const job of [...jobs].sort((a, b) => b - a)) {
    let at = 0;
    for (let i = 1; i < free.length; i++) if (free[i]! < free[at]!) at = i;
    free[at]! += job;
  }
  return Math.max(0, ...free);
}

/** The work of one epoch of each run of a spec, in creation order (cells × variants × repeats). */
export function runWorks(spec: TExperimentSpec): number[] {
  return sweepCells(spec).flatMap((cell: TCell) => {
    const work = epochWork(applyCell(spec, cell));
    return Array.from({ length: spec.variants.length * spec.training.repeats }, () => work);
  });
}

/** `POST /v1/experiments/estimate`: what the experiment would train and how long it would take. */
export const ZEstimate = z.strictObject({
  runs: z.number().int().describe("runs it would create (cells × variants × repeats)"),
  epochs: z.number().int().describe("epochs per run"),
  workers: z
    .number()
    .int()
    .nullable()
    .describe("workers connected to the queue its runs go to (null: the queue could not be asked)"),
  backend: z.string().nullable().describe("the backend the measurement comes from (the workers' latest)"),
  measuredRuns: z.number().int().describe("recent succeeded runs the pace is measured from"),
  secondsPerEpoch: z
    .number()
    .nullable()
    .describe(
      "one epoch of one of its runs (the mean over its runs), scaled from the measured pace; null: no measurement yet",
    ),
  seconds: z
    .number()
    .nullable()
    .describe(
      "wall-clock seconds for every run on the connected workers; null without a measurement or a worker",
    ),
  note: z.string().describe("what the figures rest on, in words"),
});
export type TEstimate = z.infer<typeof ZEstimate>;

/**
 * The estimate of a spec from measured runs (of one backend) and the workers on its queue (null:
 * unknown). The `note` says what is missing when a figure is null.
 */
export function estimateSpec(
  spec: TExperimentSpec,
  {
    samples,
    workers,
    backend,
  }: { samples: readonly PaceSample[]; workers: number | null; backend: string | null },
): TEstimate {
  const works = runWorks(spec);
  const epochs = spec.training.epochs;
  const measuredRuns = samples.filter(usable).length;
  const base = { runs: works.length, epochs, workers, backend, measuredRuns };
  const rates = new Map(works.map((w) => [w, secondsPerWork(samples, w)]));
  if (!measuredRuns) {
    return {
      ...base,
      secondsPerEpoch: null,
      seconds: null,
      note: "no measurement yet: no run has finished on this queue's workers",
    };
  }
  const perEpoch = works.map((w) => w * rates.get(w)!);
  const secondsPerEpoch = perEpoch.reduce((a, b) => a + b, 0) / perEpoch.length;
  const from = `measured on ${backend ?? "the workers"} over ${measuredRuns} recent run${measuredRuns === 1 ? "" : "s"} (the nearest in size to each run, scaled by network size × samples)`;
  if (!workers) {
    return {
      ...base,
      secondsPerEpoch,
      seconds: null,
      note: `${from}; ${workers === 0 ? "no worker is connected, so the runs wait until one starts" : "the number of workers is unknown"}`,
    };
  }
  return {
    ...base,
    secondsPerEpoch,
    seconds: makespan(
      perEpoch.map((s) => s * epochs),
      workers,
    ),
    note: `${from}, ${workers} worker${workers === 1 ? "" : "s"} in parallel, runs queued ahead not counted`,
  };
}

/** A run as the remaining-time estimate needs it: planned and done epochs, its epoch's work, its own pace. */
export interface RunPace {
  status: string;
  epochs: number;
  epochsDone: number;
  work: number;
  /** Training seconds over that many of its epochs, when known (a finished run's total, a running run's series). */
  measured: { seconds: number; epochs: number } | null;
}

/**
 * Seconds until an experiment's open runs finish, from its own runs' measured pace (seconds per
 * work unit of its measured runs nearest in size to each), with as many runs in parallel as are running
 * now (at least one): the running ones finish their remaining epochs, the queued ones follow on
 * the first worker free. Null before any of its epochs has a time.
 */
export function remainingSeconds(runs: readonly RunPace[]): number | null {
  const samples = runs.flatMap((r) => (r.measured ? [{ ...r.measured, work: r.work }] : []));
  if (!samples.some(usable)) return null;
  const left = (r: RunPace) =>
    Math.max(0, r.epochs - r.epochsDone) * r.work * secondsPerWork(samples, r.work)!;
  const running = runs.filter((r) => r.status === "running");
  const queued = runs.filter((r) => r.status === "queued");
  return makespan(queued.map(left), Math.max(1, running.length), running.map(left));
}
