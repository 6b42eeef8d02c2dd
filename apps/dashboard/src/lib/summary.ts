import type { TVariantSummary } from "@actlab/contracts";
import { variantLabel } from "@actlab/contracts";

/** The experiment's comparison table, as rows of plain values (shared by the UI, Markdown and CSV). */
export interface SummaryRow {
  variant: string;
  runs: number;
  accuracyMean: number | null;
  accuracyStd: number | null;
  lossMean: number | null;
  lossStd: number | null;
  secondsMean: number | null;
  gradNormRatio: number | null;
}

export function summaryRows(summary: readonly TVariantSummary[]): SummaryRow[] {
  return summary.map((s) => ({
    variant: variantLabel(s.variant),
    runs: s.runs,
    accuracyMean: s.testAccuracy.mean,
    accuracyStd: s.testAccuracy.std,
    lossMean: s.testLoss.mean,
    lossStd: s.testLoss.std,
    secondsMean: s.seconds.mean,
    gradNormRatio: s.gradNormRatio.mean,
  }));
}

const fmt = (v: number | null, digits: number) =>
  v === null || !Number.isFinite(v) ? "" : v.toFixed(digits);
const sci = (v: number | null) =>
  v === null || !Number.isFinite(v)
    ? ""
    : v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4)
      ? v.toExponential(2)
      : v.toFixed(3);

function pm(m: number | null, s: number | null, scale: number, digits: number): string {
  if (m === null || !Number.isFinite(m)) return "—";
  const mean = (m * scale).toFixed(digits);
  return s === null || !Number.isFinite(s) ? mean : `${mean} ± ${(s * scale).toFixed(digits)}`;
}

const escapeMd = (s: string) => s.replaceAll("|", "\\|");

/** GitHub-flavoured Markdown table, accuracy in percent. */
export function toMarkdown(rows: readonly SummaryRow[]): string {
  const head = ["activation", "runs", "test accuracy (%)", "test loss", "time (s)", "grad ratio first/last"];
  const lines = [
    `| ${head.join(" | ")} |`,
    `| ${head.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
  ];
  for (const r of rows) {
    lines.push(
      `| ${[
        escapeMd(r.variant),
        String(r.runs),
        pm(r.accuracyMean, r.accuracyStd, 100, 2),
        pm(r.lossMean, r.lossStd, 1, 4),
        r.secondsMean === null ? "—" : r.secondsMean.toFixed(1),
        sci(r.gradNormRatio) || "—",
      ].join(" | ")} |`,
    );
  }
  return `${lines.join("\n")}\n`;
}

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** RFC 4180 CSV with raw fractions (accuracy in [0,1]) so spreadsheets can compute on it. */
export function toCsv(rows: readonly SummaryRow[]): string {
  const head = [
    "activation",
    "runs",
    "test_accuracy_mean",
    "test_accuracy_std",
    "test_loss_mean",
    "test_loss_std",
    "seconds_mean",
    "grad_norm_ratio_first_last",
  ];
  const lines = [head.join(",")];
  for (const r of rows) {
    lines.push(
      [
        csvCell(r.variant),
        String(r.runs),
        fmt(r.accuracyMean, 6),
        fmt(r.accuracyStd, 6),
        fmt(r.lossMean, 6),
        fmt(r.lossStd, 6),
        fmt(r.secondsMean, 3),
        r.gradNormRatio === null ? "" : String(r.gradNormRatio),
      ].join(","),
    );
  }
  return `${lines.join("\r\n")}\r\n`;
}
