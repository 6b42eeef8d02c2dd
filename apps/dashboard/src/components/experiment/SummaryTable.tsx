import { CHAPTER8_FIGURES, type TRun, type TVariantSummary, variantLabel } from "@actlab/contracts";
import { useState } from "react";
import { downloadBlob } from "../../lib/download.js";
import { num, pct } from "../../lib/format.js";
import { summaryRows, toCsv, toMarkdown } from "../../lib/summary.js";
import { type Column, MeanStd, Table } from "../Table.js";
import { Swatch } from "../ui.js";

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

type Row = ReturnType<typeof summaryRows>[number];

const FINISHED: readonly string[] = ["succeeded", "failed", "canceled"];

/** "2 of 3 finished" while some of a variant's runs still train; the count alone once all are done. */
export function finishedText(label: string, total: number, runs: readonly TRun[] | undefined): string {
  if (!runs) return String(total);
  const done = runs.filter((r) => variantLabel(r.variant) === label && FINISHED.includes(r.status)).length;
  return done < total ? `${done} of ${total} finished` : String(total);
}

function columns(
  summary: readonly TVariantSummary[],
  colors: Record<string, string>,
  runs: readonly TRun[] | undefined,
): Column<Row>[] {
  return [
    {
      head: "Activation",
      cell: (r) => (
        <>
          <Swatch color={colors[r.variant]} />
          {r.variant}
        </>
      ),
    },
    { head: "Runs", className: "num hide-sm", cell: (r) => finishedText(r.variant, r.runs, runs) },
    {
      head: "Test accuracy",
      className: "num",
      cell: (r) => <MeanStd mean={r.accuracyMean} std={r.accuracyStd} format={(v) => pct(v, 2)} />,
    },
    {
      head: "95% CI",
      title:
        "95% interval of the mean accuracy: t over repeats; a single run: its test set's binomial interval",
      className: "num hide-sm",
      cell: (_r, i) => {
        const ci = summary[i]?.testAccuracy.ci95;
        return ci ? `${pct(ci[0], 1)} … ${pct(ci[1], 1)}` : "—";
      },
    },
    {
      head: "Test loss",
      className: "num",
      cell: (r) => <MeanStd mean={r.lossMean} std={r.lossStd} format={(v) => num(v, 4)} />,
    },
    {
      head: "Time",
      className: "num hide-sm",
      cell: (r) => (r.secondsMean === null ? "—" : `${r.secondsMean.toFixed(1)} s`),
    },
    {
      head: "Grad ratio first/last",
      title: "first layer's gradient norm ÷ last layer's, final epoch",
      className: "num",
      cellClass: (r) => (r.gradNormRatio !== null && r.gradNormRatio < 0.01 ? "vanishing" : ""),
      cell: (r) => num(r.gradNormRatio, 3),
    },
    {
      head: "Chapter reports",
      title: "test accuracy the textbook chapter prints for this activation",
      className: "num hide-sm",
      cellClass: () => "muted",
      cell: (_r, i) => chapterFigure(summary[i]?.variant.activation),
    },
  ];
}

export function SummaryTable({
  summary,
  filename,
  colors = {},
  leader = null,
  runs,
}: {
  summary: readonly TVariantSummary[];
  /** Label of the variant significantly better than every other, if there is one. */
  leader?: string | null;
  /** The experiment's runs, for "N of M finished" while it trains. */
  runs?: readonly TRun[];
  filename: string;
  /** variant label → chart colour, so the table doubles as the charts' legend */
  colors?: Record<string, string>;
}) {
  const rows = summaryRows(summary);
  const [copied, setCopied] = useState<"ok" | "fail" | null>(null);
  // Highlight a leader only when the comparisons say it is significantly better than every
  // other variant (the best mean alone may be noise).
  const copy = async () => {
    setCopied((await copyText(toMarkdown(rows))) ? "ok" : "fail");
    setTimeout(() => setCopied(null), 2000);
  };

  return (
    <div className="summary">
      <Table
        columns={columns(summary, colors, runs)}
        rows={rows}
        rowKey={(r) => r.variant}
        rowProps={(r) => ({ className: leader !== null && r.variant === leader ? "best" : "" })}
        testId="summary-table"
      />
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
          mean ± std over repeats; a row is highlighted only when it is significantly better than every other;
          a tiny grad ratio means the first layer barely learns.
        </span>
      </div>
    </div>
  );
}
