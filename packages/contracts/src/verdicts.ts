import { z } from "zod";
import { variantLabel } from "./activations.js";
import { type TComparison, type TVariantSummary, ZExperiment } from "./api.js";
import { cellKey, cellLabel, type TCell, ZCell } from "./sweep.js";

/*
 * The verdicts the report and the dashboard state in words, from the numbers the API sends: one
 * wording for both, so the page and the Markdown never disagree.
 */

/**
 * Below this first/last-layer gradient-norm ratio the gradient is said to vanish: 4 sigmoid
 * layers alone can cost σ′⁴ ≤ 1/256, and at 1e-2 the first layer learns a hundred times slower
 * than the last.
 */
export const VANISHING_RATIO = 1e-2;
/** Between VANISHING_RATIO and this the gradient is said to weaken toward the input. */
export const WEAKENING_RATIO = 0.2;

const SUPERSCRIPT: Record<string, string> = {
  "-": "⁻",
  "0": "⁰",
  "1": "¹",
  "2": "²",
  "3": "³",
  "4": "⁴",
  "5": "⁵",
  "6": "⁶",
  "7": "⁷",
  "8": "⁸",
  "9": "⁹",
};
/** 0.00123 → "10⁻³" (nearest power of ten). */
export function powerOfTen(x: number): string {
  const k = Math.round(Math.log10(x));
  return `10${[...String(k)].map((c) => SUPERSCRIPT[c] ?? c).join("")}`;
}

/** What the first/last-layer gradient ratio says, in words; null without a ratio. */
export function gradientVerdict(ratio: number | null): string | null {
  if (ratio === null || !Number.isFinite(ratio) || ratio <= 0) return null;
  if (ratio < VANISHING_RATIO)
    return `the gradient vanishes before it reaches the first layer (first layer ${powerOfTen(ratio)} of last)`;
  if (ratio < WEAKENING_RATIO)
    return `the gradient weakens toward the input (first layer ${ratio.toPrecision(2)} of last)`;
  if (ratio > 1 / VANISHING_RATIO)
    return `the gradient explodes toward the input (first layer ${powerOfTen(ratio)} × last)`;
  return `the gradient reaches the first layer (first/last ${ratio.toPrecision(2)})`;
}

/** "+0.02" / "−0.30" percentage points of accuracy, with a real minus sign. */
export function signedPoints(x: number, digits = 2): string {
  const s = (Math.abs(x) * 100).toFixed(digits);
  return `${x < 0 && Number(s) !== 0 ? "−" : "+"}${s}`;
}

function pText(p: number): string {
  return p < 0.001 ? "p < 0.001" : `p = ${p.toPrecision(2)}`;
}

/** Two significant digits below 0.1, so a Holm p of 0.0496 (significant) does not read "0.05". */
function holmText(p: number | null): string {
  if (p === null) return "—";
  return p < 0.1 ? p.toPrecision(2) : p.toFixed(2);
}

/**
 * One comparison in words, the better variant first when its unadjusted p is below 0.05:
 * "relu and leaky_relu do not differ: +0.02 points, 95% CI −0.30…+0.30, p = 0.84 (Holm 1.00)";
 * "relu beats sigmoid: …" when it survives Holm's correction; and, when it does not,
 * "relu leads sigmoid, not significant after Holm's correction: +30.15 points, 95% CI
 * +25.19…+35.11, p = 0.0015 (Holm 0.07)" — a 30-point gap whose interval excludes 0 is not
 * "no difference": it is a difference this many repeats cannot confirm among this many pairs.
 */
export function comparisonStatement(c: TComparison): string {
  const a = variantLabel(c.a);
  const b = variantLabel(c.b);
  if (c.test === "untestable" || c.meanDifference === null || c.pValue === null) {
    const diff = c.meanDifference === null ? "" : ` (${signedPoints(c.meanDifference)} points)`;
    return `${a} and ${b} cannot be tested: ${c.repeats} shared finished repeat${c.repeats === 1 ? "" : "s"}, at least 2 needed${diff}`;
  }
  const leads = c.significant || c.pValue < 0.05;
  const flip = leads && c.meanDifference < 0;
  const d = flip ? -c.meanDifference : c.meanDifference;
  const [lo, hi] = c.ci95 ?? [];
  const ci = lo !== undefined && hi !== undefined ? (flip ? [-hi, -lo] : [lo, hi]) : null;
  const numbers =
    `${signedPoints(d)} points, 95% CI ${ci ? `${signedPoints(ci[0]!)}…${signedPoints(ci[1]!)}` : "—"}, ` +
    `${pText(c.pValue)} (Holm ${holmText(c.pAdjusted)})`;
  const [better, worse] = flip ? [b, a] : [a, b];
  if (c.significant) return `${better} beats ${worse}: ${numbers}`;
  if (leads) return `${better} leads ${worse}, not significant after Holm's correction: ${numbers}`;
  return `${a} and ${b} do not differ: ${numbers}`;
}

/**
 * The cell's leader: the variant with the best mean accuracy, but only if it is significantly
 * better than every other variant of its cell (Holm-adjusted); otherwise null.
 */
export function cellLeader(
  summary: readonly TVariantSummary[],
  comparisons: readonly TComparison[],
  cell: Record<string, unknown>,
): TVariantSummary | null {
  const key = cellKey(cell);
  const mine = summary.filter((s) => cellKey(s.cell) === key && s.testAccuracy.mean !== null);
  if (mine.length < 2) return null;
  const best = mine.reduce((x, y) => (y.testAccuracy.mean! > x.testAccuracy.mean! ? y : x));
  const label = variantLabel(best.variant);
  const pairs = comparisons.filter((c) => cellKey(c.cell) === key);
  const beatsAll = mine
    .filter((s) => s !== best)
    .every((other) => {
      const o = variantLabel(other.variant);
      const c = pairs.find(
        (p) =>
          (variantLabel(p.a) === label && variantLabel(p.b) === o) ||
          (variantLabel(p.b) === label && variantLabel(p.a) === o),
      );
      if (!c?.significant || c.meanDifference === null) return false;
      return variantLabel(c.a) === label ? c.meanDifference > 0 : c.meanDifference < 0;
    });
  return beatsAll ? best : null;
}

/**
 * The leader sentence of a cell, given its leader's label (or null): "relu leads, significantly
 * better than every other variant (Holm-adjusted p < 0.05)." / "no variant is significantly
 * better than every other."
 */
export function leaderStatement(leader: string | null): string {
  return leader
    ? `${leader} leads, significantly better than every other variant (Holm-adjusted p < 0.05).`
    : "no variant is significantly better than every other.";
}

/** Everything one cell's numbers say in words: what the report, the dashboard and the CLI state. */
export const ZCellVerdicts = z.strictObject({
  cell: ZCell,
  label: z.string().describe('"layers=4, lr=0.1"; "" for an experiment without a sweep'),
  leader: z
    .string()
    .nullable()
    .describe("the leader's label, only when significantly better than every other"),
  leaderStatement: z.string(),
  comparisons: z.array(z.string()).describe("each pair of variants in words"),
  gradients: z.array(z.strictObject({ variant: z.string(), verdict: z.string() })),
});
export type TCellVerdicts = z.infer<typeof ZCellVerdicts>;

/** `actlab show --json`: the experiment as the API sends it, with its verdicts in words. */
export const ZExperimentWithVerdicts = ZExperiment.extend({ verdicts: z.array(ZCellVerdicts) });
export type TExperimentWithVerdicts = z.infer<typeof ZExperimentWithVerdicts>;

/** The verdicts of one cell (given as any of its summary rows' `cell`). */
export function cellVerdicts(
  summary: readonly TVariantSummary[],
  comparisons: readonly TComparison[],
  cell: TCell,
): TCellVerdicts {
  const key = cellKey(cell);
  const leader = cellLeader(summary, comparisons, cell);
  const leaderLabel = leader ? variantLabel(leader.variant) : null;
  return {
    cell,
    label: cellLabel(cell),
    leader: leaderLabel,
    leaderStatement: leaderStatement(leaderLabel),
    comparisons: comparisons.filter((c) => cellKey(c.cell) === key).map(comparisonStatement),
    gradients: summary.flatMap((s) => {
      const verdict = cellKey(s.cell) === key ? gradientVerdict(s.gradNormRatio.mean) : null;
      return verdict ? [{ variant: variantLabel(s.variant), verdict }] : [];
    }),
  };
}

/** The verdicts of every cell of an experiment, in the summary's order of cells. */
export function experimentVerdicts(
  summary: readonly TVariantSummary[],
  comparisons: readonly TComparison[],
): TCellVerdicts[] {
  const cells = new Map(summary.map((s) => [cellKey(s.cell), s.cell]));
  return [...cells.values()].map((cell) => cellVerdicts(summary, comparisons, cell));
}
