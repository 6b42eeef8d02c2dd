import type { TReport, TReportProvenance, TVariantReport } from "@actlab/contracts";
import { pct } from "./build.js";

const CODE = { keras: "Keras", tf: "TF" } as const;

/** Table cells may not contain a pipe or a newline. */
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

function duration(seconds: number | null): string {
  if (seconds === null) return "—";
  if (seconds < 90) return `${seconds.toFixed(0)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 90) return `${m} min ${Math.round(seconds - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function accuracy(v: TVariantReport): string {
  const { mean, std } = v.testAccuracy;
  if (mean === null) return "—";
  return std === null ? pct(mean, 2) : `${pct(mean, 2)} ± ${(std * 100).toFixed(2)}`;
}

function interval(v: TVariantReport): string {
  const [lo, hi] = v.testAccuracy.ci95 ?? [];
  return lo !== undefined && hi !== undefined ? `${(lo * 100).toFixed(1)}…${(hi * 100).toFixed(1)}` : "—";
}

function chapter(v: TVariantReport): string {
  if (!v.chapter.length) return "—";
  return v.chapter
    .map((f) => `${(f.accuracy * 100).toFixed(2).replace(/0$/, "")}% (${CODE[f.code]}, ${f.epochs} ep)`)
    .join("; ");
}

function to90(v: TVariantReport): string {
  const { mean, reached, of } = v.epochsTo90;
  if (!of) return "—";
  if (!reached) return "never";
  const m = Math.round(mean!);
  return reached === of ? String(m) : `${m} (${reached} of ${of} runs)`;
}

function ratio(v: TVariantReport): string {
  const r = v.gradNormRatio.geomean;
  return r === null ? "—" : r.toExponential(1);
}

/** One provenance line: "2 runs: actlab 0.1.0 @ 1a2b3c4d5e6f; wasm 4.22.0; Node v20.19.0 on linux-x64; …". */
function provenanceLine(p: TReportProvenance): string {
  const { actlab, backend } = p;
  const code = actlab.commit
    ? ` @ ${actlab.commit.slice(0, 12)}${actlab.dirty ? " (uncommitted changes)" : ""}`
    : " (commit unknown)";
  const libraries = backend.libraries.map((l) => {
    const detail = [l.core, l.threads === null ? null : `${l.threads} thread${l.threads === 1 ? "" : "s"}`]
      .filter(Boolean)
      .join(", ");
    return ` + ${l.name}${l.version ? ` ${l.version}` : ""}${detail ? ` (${detail})` : ""}`;
  });
  return (
    `${p.runs} run${p.runs === 1 ? "" : "s"}: actlab ${actlab.version}${code}; ` +
    `${backend.name}${backend.version ? ` ${backend.version}` : ""}${libraries.join("")}; ` +
    `Node ${p.node} on ${p.platform}; ${p.cpu.model} (${p.cpu.cores} cores); ` +
    `${p.workers} worker${p.workers === 1 ? "" : "s"} on ${p.hosts.join(", ")}`
  );
}

/** The report as Markdown: a header, the setup, one table row per variant, the comparison, notes and provenance. */
export function renderReportMarkdown(report: TReport): string {
  const { experiment: e, setup: s } = report;
  const lines: string[] = [];
  lines.push(`# Report: ${e.name}`);
  lines.push("");
  lines.push(
    `Experiment \`${e.id}\` · status **${e.status}** · wall time ${e.wallSeconds === null ? "— (runs not finished)" : duration(e.wallSeconds)}` +
      (e.finishedAt ? ` (finished ${e.finishedAt.replace("T", " ").replace(/\.\d+Z$/, " UTC")})` : ""),
  );
  lines.push("");
  lines.push(
    `Setup: ${s.dataset}, ${s.samples.toLocaleString("en-US")} digits (${s.train.toLocaleString("en-US")} train / ` +
      `${s.test.toLocaleString("en-US")} test), pixels ${s.pixelScale === "raw" ? "raw 0–255" : "scaled to [0,1]"}; ` +
      `network ${s.network}${s.sweep ? ` (swept: ${s.sweep})` : ""}, ${s.initializer} init; ${s.optimizer}, batch ${s.batchSize}, ` +
      `${s.epochs} epochs × ${s.repeats} repeats; backend ${s.backends.join(", ") || "—"}` +
      (s.code ? `; the chapter's ${CODE[s.code]} code.` : "."),
  );
  lines.push("");
  const swept = s.sweep !== null;
  lines.push(
    `| ${swept ? "cell | " : ""}variant | runs | test accuracy (mean ± std, %) | 95% CI (%) | chapter | epochs to 90% | time per run | grad norm first/last | dead units | verdict |`,
  );
  lines.push(`|${swept ? "---|" : ""}---|---:|---:|---:|---|---:|---:|---:|---:|---|`);
  const labels = new Map(report.cells.map((c) => [JSON.stringify(c.cell), c.label]));
  for (const v of report.variants) {
    const runs =
      v.runs.succeeded === v.runs.total ? String(v.runs.total) : `${v.runs.succeeded}/${v.runs.total}`;
    const time =
      v.seconds.mean === null
        ? "—"
        : `${duration(v.seconds.mean)}${v.seconds.perEpoch !== null ? ` (${v.seconds.perEpoch.toFixed(1)} s/ep)` : ""}`;
    const dead = v.deadFraction === null ? "—" : pct(v.deadFraction);
    const where = swept ? `${cell(labels.get(JSON.stringify(v.cell)) ?? "")} | ` : "";
    lines.push(
      `| ${where}${cell(v.label)} | ${runs} | ${accuracy(v)} | ${interval(v)} | ${chapter(v)} | ${to90(v)} | ${time} | ${ratio(v)} | ${dead} | ${cell(v.verdict)} |`,
    );
  }
  lines.push("");
  if (report.comparisons.length) {
    lines.push("## Which differences are real");
    lines.push("");
    for (const c of report.cells) {
      const mine = report.comparisons.filter((p) => JSON.stringify(p.cell) === JSON.stringify(c.cell));
      if (!mine.length) continue;
      lines.push(`**${c.statement}**`);
      lines.push("");
      for (const p of mine) lines.push(`- ${p.statement}`);
      lines.push("");
    }
  }
  for (const note of report.notes) lines.push(`- ${note}`);
  lines.push("");
  if (report.provenance.length) {
    lines.push(
      report.provenance.length === 1
        ? "**Provenance:** every run was trained the same way."
        : `**Provenance:** the runs were trained ${report.provenance.length} different ways; compare numbers within one.`,
    );
    lines.push("");
    for (const p of report.provenance) lines.push(`- ${cell(provenanceLine(p))}`);
    lines.push("");
  }
  return lines.join("\n");
}
