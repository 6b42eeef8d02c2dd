import {
  cellKey,
  cellLeader,
  comparisonStatement,
  gradientVerdict,
  type TExperiment,
  variantLabel,
} from "@actlab/contracts";

/**
 * The verdicts of one cell in words, worded as the report words them: which pairs of variants
 * differ (paired t on shared seeds, Holm over the experiment), the leader only when it is
 * significantly better than every other variant, and each variant's gradient verdict.
 */
export function Verdicts({ exp, cell }: { exp: TExperiment; cell: string }) {
  const summary = exp.summary.filter((s) => cellKey(s.cell) === cell);
  const pairs = exp.comparisons.filter((c) => cellKey(c.cell) === cell);
  const leader = summary[0] ? cellLeader(exp.summary, exp.comparisons, summary[0].cell) : null;
  return (
    <div className="verdicts" data-testid="verdicts">
      <p data-testid="leader">
        {leader ? (
          <>
            <strong>{variantLabel(leader.variant)}</strong> leads: significantly better than every other
            variant (Holm-adjusted p &lt; 0.05).
          </>
        ) : (
          "No variant is significantly better than every other here."
        )}
      </p>
      {pairs.length ? (
        <ul className="small" data-testid="comparisons">
          {pairs.map((c) => (
            <li key={`${variantLabel(c.a)}|${variantLabel(c.b)}`} data-significant={c.significant}>
              {comparisonStatement(c)}
            </li>
          ))}
        </ul>
      ) : null}
      <ul className="small" data-testid="gradient-verdicts">
        {summary.map((s) => {
          const v = gradientVerdict(s.gradNormRatio.mean);
          return v ? (
            <li key={variantLabel(s.variant)}>
              {variantLabel(s.variant)}: {v}
            </li>
          ) : null;
        })}
      </ul>
    </div>
  );
}
