import { type TRun, variantLabel } from "@actlab/contracts";
import { useMemo, useState } from "react";
import { apiFetch } from "../api/client.js";
import { predict, useExperiment, useMetrics, useRun } from "../api/hooks.js";
import type { TPrediction } from "../api/schemas.js";
import { GradientFlowGrid, MeanSpreadChart } from "../charts/charts.js";
import { DigitPad } from "../components/DigitPad.js";
import { downloadBlob } from "../components/SummaryTable.js";
import {
  Card,
  Empty,
  ErrorState,
  errorMessage,
  Facts,
  Loading,
  Progress,
  StatusBadge,
} from "../components/ui.js";
import { ACTIVATION_COLORS, PALETTE, type VariantGroup } from "../lib/aggregate.js";
import { useApiKey } from "../lib/auth.js";
import { duration, num, pct } from "../lib/format.js";
import { Link } from "../lib/router.js";

export default function RunPage({ id }: { id: string }) {
  const q = useRun(id);
  if (q.isPending) return <Loading what="Loading run" />;
  if (q.isError) return <ErrorState error={q.error} retry={() => void q.refetch()} />;
  return <RunView run={q.data} />;
}

function RunView({ run }: { run: TRun }) {
  const expQ = useExperiment(run.experimentId);
  const metricsQ = useMetrics(run.experimentId, run.status === "running" || run.status === "queued");
  const mine = metricsQ.data?.runs.find((r) => r.id === run.id);
  const group: VariantGroup[] = useMemo(
    () =>
      mine
        ? [
            {
              label: `${variantLabel(run.variant)} · repeat ${run.repeat}`,
              color: ACTIVATION_COLORS[run.variant.activation] ?? PALETTE[0]!,
              runs: [mine],
            },
          ]
        : [],
    [mine, run.variant, run.repeat],
  );
  const label = variantLabel(run.variant);

  return (
    <div className="run">
      <div className="page-head">
        <div>
          <div className="crumbs">
            <Link to="/">Experiments</Link> /{" "}
            <Link to={`/experiments/${run.experimentId}`}>{expQ.data?.name ?? "experiment"}</Link> /
          </div>
          <h1 className="exp-heading">
            {label} <span className="muted">· repeat {run.repeat}</span> <StatusBadge status={run.status} />
          </h1>
        </div>
      </div>
      <Card>
        <Progress
          value={run.progress.epochs ? run.progress.epoch / run.progress.epochs : 0}
          status={run.status}
          label={`epoch ${run.progress.epoch}/${run.progress.epochs}`}
        />
        <Facts
          items={[
            ["Test accuracy", pct(run.testAccuracy, 2)],
            ["Test loss", num(run.testLoss, 4)],
            ["Time", duration(run.seconds)],
            ["Backend", run.backend ?? "—"],
            ["Device", run.device],
            ["Attempts", String(run.attempts)],
            ["Seed", String(run.seed)],
            ["Run id", <code key="id">{run.id}</code>],
          ]}
        />
        {run.error ? (
          <div className="form-error" role="alert">
            {run.error}
          </div>
        ) : null}
        {run.status === "succeeded" ? <ModelDownload run={run} /> : null}
      </Card>

      {run.status === "succeeded" ? <PredictPanel run={run} siblings={expQ.data?.runs ?? []} /> : null}

      <Card title="Metrics">
        {metricsQ.isPending ? (
          <Loading what="Loading metrics" />
        ) : metricsQ.isError ? (
          <ErrorState error={metricsQ.error} />
        ) : !mine || mine.series.epoch.length === 0 ? (
          <Empty title="No epochs recorded yet." />
        ) : (
          <>
            <div className="chart-grid">
              <MeanSpreadChart
                groups={group}
                field="testAccuracy"
                title="test accuracy"
                testId="run-chart-accuracy"
                percent
              />
              <MeanSpreadChart groups={group} field="testLoss" title="test loss" testId="run-chart-loss" />
            </div>
            <h3>Gradient norm per layer</h3>
            <GradientFlowGrid groups={group} testIdPrefix="run-chart-gradflow" single />
            <EpochTable series={mine.series} />
          </>
        )}
      </Card>
    </div>
  );
}

function EpochTable({
  series,
}: {
  series: NonNullable<ReturnType<typeof useMetrics>["data"]>["runs"][number]["series"];
}) {
  const [all, setAll] = useState(false);
  const n = series.epoch.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  const shown = all || n <= 12 ? idx : [...idx.slice(0, 5), -1, ...idx.slice(n - 5)];
  return (
    <details className="epoch-details">
      <summary>Per-epoch table ({n} epochs)</summary>
      <div className="table-wrap">
        <table className="table small">
          <thead>
            <tr>
              <th className="num">Epoch</th>
              <th className="num">Train loss</th>
              <th className="num">Train acc.</th>
              <th className="num">Test loss</th>
              <th className="num">Test acc.</th>
              <th className="num">‖∇W‖ first</th>
              <th className="num">‖∇W‖ last</th>
              <th className="num">Seconds</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((i) =>
              i < 0 ? (
                <tr key="gap">
                  <td colSpan={8} className="muted">
                    <button type="button" className="btn btn-ghost btn-small" onClick={() => setAll(true)}>
                      show all {n} epochs
                    </button>
                  </td>
                </tr>
              ) : (
                <tr key={series.epoch[i]}>
                  <td className="num">{series.epoch[i]}</td>
                  <td className="num">{num(series.trainLoss?.[i], 4)}</td>
                  <td className="num">{pct(series.trainAccuracy?.[i], 2)}</td>
                  <td className="num">{num(series.testLoss?.[i], 4)}</td>
                  <td className="num">{pct(series.testAccuracy?.[i], 2)}</td>
                  <td className="num">{num(series.gradNorms?.[i]?.[0])}</td>
                  <td className="num">{num(series.gradNorms?.[i]?.at(-1))}</td>
                  <td className="num">{num(series.seconds?.[i], 2)}</td>
                </tr>
              ),
            )}
          </tbody>
        </table>
      </div>
    </details>
  );
}

/** Fetches model.json with the key, then every weights file it names, and saves them side by side. */
function ModelDownload({ run }: { run: TRun }) {
  const apiKey = useApiKey();
  const [state, setState] = useState<string | null>(null);
  const base = `/v1/runs/${run.id}/model/`;
  const download = async () => {
    setState("Downloading…");
    try {
      const model = (await apiFetch(apiKey, `${base}model.json`)) as {
        weightsManifest?: { paths?: string[] }[];
      };
      downloadBlob("model.json", JSON.stringify(model), "application/json");
      const paths = (model.weightsManifest ?? []).flatMap((g) => g.paths ?? []);
      for (const p of paths) {
        const res = await fetch(new URL(p, new URL(`${base}model.json`, window.location.href)), {
          headers: { authorization: `Bearer ${apiKey}` },
        });
        if (!res.ok) throw new Error(`${p}: ${res.status} ${res.statusText}`);
        downloadBlob(
          p.split("/").pop() ?? "weights.bin",
          await res.arrayBuffer(),
          "application/octet-stream",
        );
      }
      setState(`Saved model.json and ${paths.length} weights file${paths.length === 1 ? "" : "s"}.`);
    } catch (e) {
      setState(`Download failed: ${errorMessage(e)}`);
    }
  };
  return (
    <div className="model-download">
      <button type="button" className="btn btn-small" onClick={download} data-testid="model-download">
        Download model (TensorFlow.js)
      </button>
      {state ? <span className="muted small">{state}</span> : null}
      <details className="small">
        <summary>Load it in code</summary>
        <pre>{`// TensorFlow.js (browser or Node)
const model = await tf.loadLayersModel("${window.location.origin}${base}model.json", {
  requestInit: { headers: { Authorization: "Bearer <your key>" } },
});

# or fetch the files
curl -H "Authorization: Bearer $ACTLAB_KEY" ${window.location.origin}${base}model.json`}</pre>
      </details>
    </div>
  );
}

interface SiblingPrediction {
  run: TRun;
  result?: TPrediction;
  error?: string;
}

function PredictPanel({ run, siblings }: { run: TRun; siblings: TRun[] }) {
  const apiKey = useApiKey();
  const [pixels, setPixels] = useState<number[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [results, setResults] = useState<SiblingPrediction[]>([]);
  const finished = [run, ...siblings.filter((s) => s.id !== run.id && s.status === "succeeded")];

  const go = async () => {
    if (!pixels) return;
    setBusy(true);
    const settled = await Promise.all(
      finished.map(async (r): Promise<SiblingPrediction> => {
        try {
          return { run: r, result: await predict(apiKey, r.id, pixels) };
        } catch (e) {
          return { run: r, error: errorMessage(e) };
        }
      }),
    );
    setResults(settled);
    setBusy(false);
  };

  const mine = results.find((r) => r.run.id === run.id);
  const probs = mine?.result?.probabilities[0] ?? [];
  const cls = mine?.result?.classes[0];

  return (
    <Card title="Draw a digit">
      <div className="predict">
        <div>
          <DigitPad
            onChange={(p) => {
              setPixels(p);
              setResults([]);
            }}
          />
          <button
            type="button"
            className="btn btn-primary"
            onClick={go}
            disabled={!pixels || busy}
            data-testid="predict-button"
          >
            {busy
              ? "Predicting…"
              : finished.length > 1
                ? `Predict with ${finished.length} finished runs`
                : "Predict"}
          </button>
        </div>
        <div className="predict-result" data-testid="prediction" data-class={cls ?? ""}>
          {mine?.error ? <div className="form-error">{mine.error}</div> : null}
          {cls !== undefined ? (
            <>
              <div className="predicted">
                <span className="muted">this run says</span> <strong className="big-digit">{cls}</strong>{" "}
                <span className="muted">({pct(probs[cls], 1)})</span>
              </div>
              <ol className="probs" start={0}>
                {probs.map((p, d) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: the index is the digit
                  <li key={d} className={d === cls ? "top" : ""}>
                    <span className="digit">{d}</span>
                    <span className="bar">
                      <span style={{ width: `${Math.max(0, Math.min(1, p)) * 100}%` }} />
                    </span>
                    <span className="num">{pct(p, 1)}</span>
                  </li>
                ))}
              </ol>
            </>
          ) : !mine ? (
            <p className="muted">Draw a digit (0–9) in the black square, then press Predict.</p>
          ) : null}
        </div>
      </div>
      {results.length > 1 ? (
        <div className="table-wrap">
          <table className="table small sibling-table" data-testid="sibling-predictions">
            <thead>
              <tr>
                <th>Run</th>
                <th className="num">Repeat</th>
                <th className="num">Digit</th>
                <th className="num">Confidence</th>
              </tr>
            </thead>
            <tbody>
              {results.map((r) => {
                const c = r.result?.classes[0];
                return (
                  <tr key={r.run.id} className={r.run.id === run.id ? "best" : ""}>
                    <td>
                      <Link to={`/runs/${r.run.id}`}>{variantLabel(r.run.variant)}</Link>
                    </td>
                    <td className="num">{r.run.repeat}</td>
                    <td className="num">{r.error ? <span className="run-error">error</span> : c}</td>
                    <td className="num">{c === undefined ? "—" : pct(r.result?.probabilities[0]?.[c], 1)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </Card>
  );
}
