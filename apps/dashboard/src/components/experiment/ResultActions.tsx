import { LIMITS, type TExperiment, variantLabel } from "@actlab/contracts";
import { useState } from "react";
import { ApiError } from "../../api/client.js";
import { isActiveExperiment } from "../../api/hooks.js";
import { downloadMetricsCsv, useContinueExperiment } from "../../api/results.js";
import { useApiKey } from "../../lib/auth.js";
import { navigate } from "../../lib/router.js";
import { errorMessage } from "../ui.js";

/** "sigmoid, repeat 1" (or the id's start for a run the page does not have). */
function runName(exp: TExperiment, runId: string): string {
  const run = exp.runs.find((r) => r.id === runId);
  return run ? `${variantLabel(run.variant)}, repeat ${run.repeat}` : runId.slice(0, 8);
}

/**
 * What to do with an experiment's results: export every metric as CSV, clone it into the form,
 * continue a finished one to more epochs (each succeeded run from its last checkpoint; in a partial
 * experiment the others stay as they are, and the API's reason for each is shown).
 */
export function ResultActions({ exp }: { exp: TExperiment }) {
  const apiKey = useApiKey();
  const cont = useContinueExperiment(exp.id);
  const current = exp.spec.training.epochs;
  const [epochs, setEpochs] = useState(() => Math.min(LIMITS.maxEpochs, current * 2));
  const [csvError, setCsvError] = useState<string | null>(null);
  const finished = !isActiveExperiment(exp.status);
  const canContinue =
    finished && exp.runs.some((r) => r.status === "succeeded") && current < LIMITS.maxEpochs;
  const left = cont.data?.notContinued ?? [];
  return (
    <div className="result-actions" data-testid="result-actions">
      <button
        type="button"
        className="btn btn-small"
        onClick={() => {
          setCsvError(null);
          downloadMetricsCsv(apiKey, exp).catch((err: unknown) => setCsvError(errorMessage(err)));
        }}
      >
        metrics.csv
      </button>
      <button type="button" className="btn btn-small" onClick={() => navigate(`/new?clone=${exp.id}`)}>
        Clone
      </button>
      {canContinue ? (
        <form
          className="continue-form"
          onSubmit={(e) => {
            e.preventDefault();
            cont.mutate(epochs);
          }}
        >
          <label>
            continue to{" "}
            <input
              type="number"
              className="continue-epochs"
              min={current + 1}
              max={LIMITS.maxEpochs}
              value={epochs}
              aria-label="continue to this many epochs in total"
              onChange={(e) => setEpochs(Number(e.target.value))}
            />{" "}
            epochs
          </label>
          <button type="submit" className="btn btn-small" disabled={cont.isPending || !(epochs > current)}>
            {cont.isPending ? "Continuing…" : "Continue"}
          </button>
        </form>
      ) : finished ? (
        <span className="muted small">
          {current >= LIMITS.maxEpochs
            ? `already at the ${LIMITS.maxEpochs}-epoch limit`
            : "continue needs a succeeded run"}
        </span>
      ) : null}
      {left.length ? (
        <div className="muted small" data-testid="not-continued">
          {left.length === 1 ? "1 run was not continued" : `${left.length} runs were not continued`}:
          <ul>
            {left.map((r) => (
              <li key={r.runId}>
                {runName(exp, r.runId)}: {r.reason}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {cont.isError || csvError ? (
        <div className="form-error" role="alert">
          {csvError ?? errorMessage(cont.error)}
          {cont.error instanceof ApiError
            ? cont.error.problem?.errors?.map((e) => <div key={e.path}>{`${e.path}: ${e.message}`}</div>)
            : null}
        </div>
      ) : null}
    </div>
  );
}
