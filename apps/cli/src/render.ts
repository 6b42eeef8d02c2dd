import {
  cellLabel,
  experimentVerdicts,
  type TCellVerdicts,
  type TExperiment,
  type TExperimentListItem,
  variantLabel,
} from "@actlab/contracts";
import { num, pct, secs, table } from "./output.js";
import { runLabel } from "./watch.js";

export const TERMINAL_EXPERIMENT = ["succeeded", "failed", "canceled", "partial"] as const;
export const isFinished = (status: string) => (TERMINAL_EXPERIMENT as readonly string[]).includes(status);

export function experimentList(items: TExperimentListItem[]): string {
  if (!items.length) return "no experiments";
  return table(
    ["id", "name", "status", "epochs", "created"],
    items.map((e) => [e.id, e.name, e.status, `${e.progress.epoch}/${e.progress.epochs}`, e.createdAt]),
  );
}

/** `actlab show`: what the experiment is, its runs, the per-variant summary and its verdicts. */
export function experimentDetail(e: TExperiment): string {
  const { dataset, model, training } = e.spec;
  const lines = [
    `${e.name}  (${e.id})`,
    `status ${e.status}; created ${e.createdAt}${e.finishedAt ? `, finished ${e.finishedAt}` : ""}`,
    `${dataset.name} × ${dataset.samples}, ${model.hiddenLayers} hidden layers × ${model.units} units, ` +
      `${training.epochs} epochs, batch ${training.batchSize}, ${training.repeats} repeat(s)`,
    "",
    "runs",
    table(
      ["run", "status", "epochs", "test acc", "test loss", "time", "backend"],
      e.runs.map((r) => [
        runLabel(r),
        r.error ? `${r.status}: ${r.error.slice(0, 60)}` : r.status,
        `${r.progress.epoch}/${r.progress.epochs}`,
        pct(r.testAccuracy),
        num(r.testLoss),
        secs(r.seconds),
        r.backend ?? "–",
      ]),
    ),
    "",
    "summary per variant (mean ± std over repeats)",
    table(
      ["variant", "runs", "test acc", "test loss", "time", "grad ratio first/last"],
      e.summary.map((s) => [
        [cellLabel(s.cell), variantLabel(s.variant)].filter(Boolean).join(" · "),
        s.runs,
        s.testAccuracy.mean === null ? "–" : `${pct(s.testAccuracy.mean)} ± ${pct(s.testAccuracy.std)}`,
        s.testLoss.mean === null ? "–" : `${num(s.testLoss.mean)} ± ${num(s.testLoss.std)}`,
        secs(s.seconds.mean),
        num(s.gradNormRatio.mean),
      ]),
    ),
    "",
    verdictLines(experimentVerdicts(e.summary, e.comparisons)),
  ];
  return lines.join("\n");
}

/** The verdicts in the report's and the dashboard's words, one block per cell of the sweep. */
function verdictLines(cells: TCellVerdicts[]): string {
  if (!cells.length) return "verdicts: none yet (no run has finished)";
  return cells
    .map((v) =>
      [
        `verdicts${v.label ? ` (${v.label})` : ""}`,
        `  ${v.leaderStatement}`,
        ...v.comparisons.map((c) => `  ${c}`),
        ...v.gradients.map((g) => `  ${g.variant}: ${g.verdict}`),
      ].join("\n"),
    )
    .join("\n\n");
}
