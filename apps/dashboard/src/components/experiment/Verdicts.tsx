import { cellKey, cellVerdicts, type TExperiment } from "@actlab/contracts";

/**
 * The verdicts of one cell in words, worded as the report and the CLI word them (one wording, in
 * contracts): which pairs of variants differ (paired t on shared seeds, Holm over the
 * experiment), the leader only when it is significantly better than every other variant, and
 * each variant's gradient verdict.
 */
export function Verdicts({ exp, cell }: { exp: TExperiment; cell: string }) {
  const first = exp.summary.find((s) => cellKey(s.cell) === cell);
  const v = cellVerdicts(exp.summary, exp.comparisons, first?.cell ?? {});
  return (
    <div className="verdicts" data-testid="verdicts">
      <p data-testid="leader">
        {v.leader ? (
          <>
            <strong>{v.leader}</strong>
            {v.leaderStatement.slice(v.leader.length)}
          </>
        ) : (
          v.leaderStatement.charAt(0).toUpperCase() + v.leaderStatement.slice(1)
        )}
      </p>
      {v.comparisons.length ? (
        <ul className="small" data-testid="comparisons">
          {v.comparisons.map((c) => (
            <li key={c}>{c}</li>
          ))}
        </ul>
      ) : null}
      <ul className="small" data-testid="gradient-verdicts">
        {v.gradients.map((g) => (
          <li key={g.variant}>
            {g.variant}: {g.verdict}
          </li>
        ))}
      </ul>
    </div>
  );
}
