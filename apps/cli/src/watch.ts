import type { ActlabClient } from "@actlab/client";
import { type TExperiment, type TExperimentEvent, type TRun, variantLabel } from "@actlab/contracts";
import cliProgress from "cli-progress";
import { experimentEvents } from "./events.js";
import type { Output } from "./output.js";

interface RunState {
  label: string;
  status: TRun["status"];
  epoch: number;
  epochs: number;
  accuracy: number | null;
  /** Seconds of each epoch seen live, for the ETA. */
  epochSeconds: number[];
}

export const runLabel = (run: Pick<TRun, "variant" | "repeat">) =>
  `${variantLabel(run.variant)} #${run.repeat}`;

/**
 * The ETA is computed here, not by cli-progress: its own estimate divides by the rate of bar
 * updates, which a replayed stream (every past epoch at once) or a run waiting in the queue
 * makes meaningless. Remaining epochs × this run's mean epoch time is what a user expects.
 */
function eta(s: RunState): string {
  if (s.status === "queued") return "queued";
  if (s.status !== "running") return s.status;
  if (!s.epochSeconds.length) return "…";
  const mean = s.epochSeconds.reduce((a, b) => a + b, 0) / s.epochSeconds.length;
  const left = Math.max(0, (s.epochs - s.epoch) * mean);
  return left < 60
    ? `${Math.ceil(left)}s`
    : `${Math.floor(left / 60)}m${String(Math.round(left % 60)).padStart(2, "0")}s`;
}

function payload(s: RunState) {
  return {
    label: s.label,
    acc: s.accuracy === null ? "  –  " : `${(s.accuracy * 100).toFixed(1).padStart(5)}%`,
    eta: eta(s),
  };
}

/** Folds one event into the runs' state; returns the run it changed (if any). */
function apply(runs: Map<string, RunState>, ev: TExperimentEvent): RunState | undefined {
  if (ev.type === "experiment.finished") return undefined;
  const s = runs.get(ev.data.runId);
  if (!s) return undefined;
  switch (ev.type) {
    case "run.started":
      s.status = "running";
      s.epoch = ev.data.resumedFromEpoch;
      break;
    case "run.epoch":
      s.status = "running";
      s.epoch = ev.data.metrics.epoch;
      s.epochs = ev.data.epochs;
      s.accuracy = ev.data.metrics.testAccuracy;
      s.epochSeconds.push(ev.data.metrics.seconds);
      break;
    case "run.finished":
      s.status = "succeeded";
      s.epoch = s.epochs;
      s.accuracy = ev.data.testAccuracy;
      break;
    case "run.failed":
      s.status = "failed";
      break;
    case "run.canceled":
      s.status = "canceled";
      break;
  }
  return s;
}

export interface WatchOptions {
  client: ActlabClient;
  experiment: TExperiment;
  output: Output;
  /** Draw progress bars (a terminal); otherwise print a line per run state change. */
  bars: boolean;
  signal: AbortSignal;
  idleTimeoutMs?: number;
}

/**
 * Follows an experiment's event stream until it finishes (returns true) or `signal` aborts
 * (returns false; the experiment keeps training: watching never cancels anything). One bar per
 * run: epochs done, last test accuracy, ETA, status. With --json, each event is one JSON line.
 */
export async function watchExperiment(opts: WatchOptions): Promise<boolean> {
  const { client, experiment, output, signal } = opts;
  const runs = new Map<string, RunState>(
    experiment.runs.map((r) => [
      r.id,
      {
        label: runLabel(r),
        status: r.status,
        epoch: r.progress.epoch,
        epochs: r.progress.epochs,
        accuracy: r.testAccuracy,
        epochSeconds: [],
      },
    ]),
  );
  const width = Math.max(...[...runs.values()].map((s) => s.label.length), 8);
  for (const s of runs.values()) s.label = s.label.padEnd(width);

  const multibar =
    opts.bars && !output.json
      ? new cliProgress.MultiBar(
          {
            stream: process.stderr,
            format: "{label} {bar} {value}/{total} epochs | acc {acc} | ETA {eta}",
            barsize: 24,
            hideCursor: true,
            clearOnComplete: false,
            stopOnComplete: false,
            autopadding: true,
            fps: 10,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  const bars = new Map(
    [...runs].map(([id, s]) => [id, multibar?.create(s.epochs, s.epoch, payload(s))] as const),
  );

  let finished = false;
  try {
    for await (const { id, event } of experimentEvents({
      client,
      experimentId: experiment.id,
      signal,
      ...(opts.idleTimeoutMs ? { idleTimeoutMs: opts.idleTimeoutMs } : {}),
      onReconnect: ({ lastEventId, reason }) => {
        const line = `connection lost (${reason}); resuming after event ${lastEventId ?? "(none)"}`;
        if (multibar) multibar.log(`${line}\n`);
        else if (!output.json) output.err(line);
      },
    })) {
      if (output.json) output.out(JSON.stringify({ id, ...event }));
      const before = event.type === "experiment.finished" ? undefined : runs.get(event.data.runId)?.status;
      const s = apply(runs, event);
      if (event.type === "experiment.finished") {
        finished = true;
        if (!multibar && !output.json) output.err(`experiment ${experiment.id} ${event.data.status}`);
        continue;
      }
      if (!s) continue;
      const bar = bars.get(event.data.runId);
      if (bar) {
        bar.setTotal(s.epochs);
        bar.update(s.epoch, payload(s));
      } else if (!output.json && before !== s.status) {
        output.err(
          `${s.label.trim()}: ${s.status}${s.accuracy !== null && s.status === "succeeded" ? ` (test accuracy ${(s.accuracy * 100).toFixed(1)}%)` : ""}`,
        );
      }
    }
  } finally {
    multibar?.stop();
  }
  return finished;
}
