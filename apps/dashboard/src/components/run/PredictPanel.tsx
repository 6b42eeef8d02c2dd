import { type TPrediction, type TRun, variantLabel } from "@actlab/contracts";
import { useState } from "react";
import { predict } from "../../api/hooks.js";
import { useApiKey } from "../../lib/auth.js";
import { pct } from "../../lib/format.js";
import { Link } from "../../lib/router.js";
import { type Column, Table } from "../Table.js";
import { Card, errorMessage } from "../ui.js";
import { DigitPad } from "./DigitPad.js";

interface SiblingPrediction {
  run: TRun;
  result?: TPrediction;
  error?: string;
}

const topClass = (r: SiblingPrediction) => r.result?.classes[0];

/** What each finished run of the experiment says the drawing is. */
const SIBLING_COLUMNS: Column<SiblingPrediction>[] = [
  { head: "Run", cell: (r) => <Link to={`/runs/${r.run.id}`}>{variantLabel(r.run.variant)}</Link> },
  { head: "Repeat", className: "num", cell: (r) => r.run.repeat },
  {
    head: "Digit",
    className: "num",
    cell: (r) => (r.error ? <span className="run-error">error</span> : topClass(r)),
  },
  {
    head: "Confidence",
    className: "num",
    cell: (r) => {
      const c = topClass(r);
      return c === undefined ? "—" : pct(r.result?.probabilities[0]?.[c], 1);
    },
  },
];

/** Draw a digit; this run and every finished run of its experiment predict it. */
export function PredictPanel({ run, siblings }: { run: TRun; siblings: TRun[] }) {
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
        <Table
          columns={SIBLING_COLUMNS}
          rows={results}
          rowKey={(r) => r.run.id}
          rowProps={(r) => ({ className: r.run.id === run.id ? "best" : "" })}
          className="small sibling-table"
          testId="sibling-predictions"
        />
      ) : null}
    </Card>
  );
}
