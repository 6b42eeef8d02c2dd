import type {
  TEpochMetrics,
  TExperiment,
  TExperimentEvent,
  TMetricsResponse,
  TRunSeries,
} from "@actlab/contracts";
import { deriveExperimentStatus, EVENT_TYPES, METRIC_FIELDS, ZExperimentEvent } from "@actlab/contracts";

/*
 * Pure reducers that fold one Server-Sent Event into the cached experiment and metrics, so the
 * charts move on every epoch without refetching. They never duplicate an epoch: a resumed run
 * re-sending epoch 5 replaces epoch 5.
 */

/** Reads one SSE message; accepts either the bare payload or `{ type, data }` in `data:`. */
export function parseEvent(type: string, raw: string): TExperimentEvent | null {
  if (!(EVENT_TYPES as readonly string[]).includes(type)) return null;
  let payload: unknown;
  try {
    payload = JSON.parse(raw);
  } catch {
    return null;
  }
  if (payload && typeof payload === "object" && "type" in payload && "data" in payload) {
    payload = (payload as { data: unknown }).data;
  }
  const parsed = ZExperimentEvent.safeParse({ type, data: payload });
  return parsed.success ? parsed.data : null;
}

/** Every per-epoch column but the PReLU slopes, which only PReLU runs have (handled below). */
const SERIES_FIELDS = METRIC_FIELDS.filter((f) => f !== "preluAlphaMean");

/** Inserts (or replaces) one epoch in a run's columnar series, keeping epochs sorted. */
export function upsertEpoch(series: TRunSeries, m: TEpochMetrics): TRunSeries {
  const epochs = series.epoch;
  const existing = epochs.indexOf(m.epoch);
  const at = existing >= 0 ? existing : epochs.filter((e) => e < m.epoch).length;
  const put = <T>(arr: T[] | undefined, v: T): T[] => {
    const out = [...(arr ?? [])];
    if (existing >= 0) out[at] = v;
    else out.splice(at, 0, v);
    return out;
  };
  const next: TRunSeries = { ...series, epoch: put(epochs, m.epoch) };
  for (const f of SERIES_FIELDS) {
    // biome-ignore lint/suspicious/noExplicitAny: columns of one run share their index, types differ per field
    (next as any)[f] = put((series as any)[f], m[f]);
  }
  if (m.preluAlphaMean !== null || series.preluAlphaMean) {
    next.preluAlphaMean = put(series.preluAlphaMean ?? [], m.preluAlphaMean ?? []);
  }
  return next;
}

export function applyEventToMetrics(
  metrics: TMetricsResponse | undefined,
  experiment: TExperiment | undefined,
  ev: TExperimentEvent,
): TMetricsResponse | undefined {
  if (!metrics) return metrics;
  if (ev.type === "run.epoch") {
    const { runId, metrics: m } = ev.data;
    const found = metrics.runs.find((r) => r.id === runId);
    if (found) {
      return {
        runs: metrics.runs.map((r) =>
          r.id === runId ? { ...r, status: "running", series: upsertEpoch(r.series, m) } : r,
        ),
      };
    }
    const run = experiment?.runs.find((r) => r.id === runId);
    if (!run) return metrics; // unknown run: the next refetch brings it
    return {
      runs: [
        ...metrics.runs,
        {
          id: run.id,
          variant: run.variant,
          cell: run.cell,
          repeat: run.repeat,
          status: "running",
          series: upsertEpoch({ epoch: [] }, m),
        },
      ],
    };
  }
  const status = runStatusOf(ev);
  if (status && "runId" in ev.data) {
    const runId = ev.data.runId;
    return { runs: metrics.runs.map((r) => (r.id === runId ? { ...r, status } : r)) };
  }
  return metrics;
}

function runStatusOf(ev: TExperimentEvent) {
  switch (ev.type) {
    case "run.started":
      return "running" as const;
    case "run.finished":
      return "succeeded" as const;
    case "run.failed":
      return "failed" as const;
    case "run.canceled":
      return "canceled" as const;
    default:
      return null;
  }
}

export function applyEventToExperiment(
  exp: TExperiment | undefined,
  ev: TExperimentEvent,
): TExperiment | undefined {
  if (!exp) return exp;
  if (ev.type === "experiment.finished") {
    return { ...exp, status: ev.data.status, finishedAt: exp.finishedAt ?? new Date().toISOString() };
  }
  // Any event of a run is a sign of life: it is no longer stale.
  const alive = { updatedAt: new Date().toISOString(), stale: false };
  const runs = exp.runs.map((r) => {
    if (r.id !== ev.data.runId) return r;
    switch (ev.type) {
      case "run.started":
        return {
          ...r,
          status: "running" as const,
          backend: ev.data.backend,
          device: ev.data.device,
          attempts: ev.data.attempt,
          resumedFromEpoch: ev.data.resumedFromEpoch,
          ...alive,
        };
      case "run.epoch":
        return {
          ...r,
          status: "running" as const,
          progress: { epoch: Math.max(r.progress.epoch, ev.data.metrics.epoch), epochs: ev.data.epochs },
          ...alive,
        };
      case "run.finished":
        return {
          ...r,
          status: "succeeded" as const,
          progress: { ...r.progress, epoch: r.progress.epochs },
          testAccuracy: ev.data.testAccuracy,
          testLoss: ev.data.testLoss,
          seconds: ev.data.seconds,
          ...alive,
        };
      case "run.failed":
        return { ...r, status: "failed" as const, error: ev.data.error, ...alive };
      case "run.canceled":
        return { ...r, status: "canceled" as const, ...alive };
      default:
        return r;
    }
  });
  return {
    ...exp,
    runs,
    status: deriveExperimentStatus(runs.map((r) => r.status)),
    startedAt: exp.startedAt ?? (ev.type === "run.started" ? new Date().toISOString() : null),
  };
}
