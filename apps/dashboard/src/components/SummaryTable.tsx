import { CHAPTER8_FIGURES, type TVariantSummary } from "@actlab/contracts";
import { useState } from "react";
import { num, pct } from "../lib/format.js";
import { summaryRows, toCsv, toMarkdown } from "../lib/summary.js";
import { Swatch } from "./ui.js";

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API needs a secure context; fall back to a hidden textarea.
    const ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    document.body.appendChild(ta);
    ta.select();
    const ok = document.execCommand("copy");
    ta.remove();
    return ok;
  }
}

/** The chapter's printed accuracy for an activation, e.g. "93.2% (Keras, 1000 ep.)". */
function chapterFigure(activation: string | undefined): string {
  const figures = activation ? CHAPTER8_FIGURES[activation] : undefined;
  if (!figures?.length) return "—";
  return figures
    .map((f) => `${(f.accuracy * 100).toFixed(1)}% (${f.code === "tf" ? "TF" : "Keras"}, ${f.epochs} ep.)`)
    .join(" · ");
}

export function downloadBlob(filename: string, content: BlobPart, type: string) {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function SummaryTable({
  summary,
  filename,
  colors = {},
}: {
  summary: readonly TVariantSummary[];
  filename: string;
  /** variant label → chart colour, so the table doubles as the charts' legend */
  colors?: Record<string, string>;
}) {
  const rows = summaryRows(summary);
  const [copied, setCopied] = useState<"ok" | "fail" | null>(null);
  // Highlight the winner only once there is a comparison to win.
  const measured = rows.filter((r) => r.accuracyMean !== null);
  const allTied = measured.every((r) => r.accuracyMean === measured[0]?.accuracyMean);
  const best =
    measured.length < 2 || allTied
      ? null
      : rows.reduce<number | null>(
          (b, r) => (r.accuracyMean !== null && (b === null || r.accuracyMean > b) ? r.accuracyMean : b),
          null,
        );

  const copy = async () => {
    setCopied((await copyText(toMarkdown(rows))) ? "ok" : "fail");
    setTimeout(() => setCopied(null), 2000);
  };

  return (
    <div className="summary">
      <div className="table-wrap">
        <table className="table" data-testid="summary-table">
          <thead>
            <tr>
              <th>Activation</th>
              <th className="num hide-sm">Runs</th>
              <th className="num">Test accuracy</th>
              <th className="num">Test loss</th>
              <th className="num hide-sm">Time</th>
              <th className="num" title="first layer's gradient norm ÷ last layer's, final epoch">
                Grad ratio first/last
              </th>
              <th
                className="num hide-sm"
                title="test accuracy the textbook chapter prints for this activation"
              >
                Chapter reports
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={r.variant} className={best !== null && r.accuracyMean === best ? "best" : ""}>
                <td>
                  <Swatch color={colors[r.variant]} />
                  {r.variant}
                </td>
                <td className="num hide-sm">{r.runs}</td>
                <td className="num">
                  {pct(r.accuracyMean, 2)}
                  {r.accuracyStd !== null && r.accuracyMean !== null ? (
                    <span className="muted"> ± {pct(r.accuracyStd, 2)}</span>
                  ) : null}
                </td>
                <td className="num">
                  {num(r.lossMean, 4)}
                  {r.lossStd !== null && r.lossMean !== null ? (
                    <span className="muted"> ± {num(r.lossStd, 4)}</span>
                  ) : null}
                </td>
                <td className="num hide-sm">
                  {r.secondsMean === null ? "—" : `${r.secondsMean.toFixed(1)} s`}
                </td>
                <td
                  className={`num ${r.gradNormRatio !== null && r.gradNormRatio < 0.01 ? "vanishing" : ""}`}
                >
                  {num(r.gradNormRatio, 3)}
                </td>
                <td className="num hide-sm muted">{chapterFigure(summary[i]?.variant.activation)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="row-actions">
        <button type="button" className="btn btn-small" onClick={copy} disabled={!rows.length}>
          {copied === "ok" ? "Copied ✓" : copied === "fail" ? "Copy failed" : "Copy as Markdown"}
        </button>
        <button
          type="button"
          className="btn btn-small"
          onClick={() => downloadBlob(`${filename}.csv`, toCsv(rows), "text/csv")}
          disabled={!rows.length}
        >
          Download CSV
        </button>
        <span className="muted small">
          mean ± std over repeats; a tiny grad ratio means the first layer barely learns.
        </span>
      </div>
    </div>
  );
}
