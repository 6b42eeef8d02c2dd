import { LIMITS, type TEstimate } from "@actlab/contracts";
import { count } from "../../lib/progress.js";
import { type FormSpec, workload } from "../../lib/specForm.js";
import { EstimateLine } from "./EstimateLine.js";

/**
 * The form's foot: how much the experiment will train and how long that would take (the API's
 * estimate), the API's answer when it refused it (with the errors no field shows), and the start
 * button.
 */
export function SubmitBar({
  spec,
  error,
  strayErrors,
  pending,
  estimate,
  estimatePending,
}: {
  spec: FormSpec;
  error: string | null;
  /** [path, messages] the API reported for paths without a field of their own. */
  strayErrors: [string, string[]][];
  pending: boolean;
  estimate: TEstimate | undefined;
  estimatePending: boolean;
}) {
  const { runs, epochs } = workload(spec);
  return (
    <div className="submit-bar">
      <div className={`workload ${runs > LIMITS.maxRunsPerExperiment ? "over" : ""}`} data-testid="workload">
        {count(spec.variants.length, "variant")} × {count(spec.training.repeats, "repeat")} ={" "}
        <strong>{count(runs, "run")}</strong> (max {LIMITS.maxRunsPerExperiment}), {count(epochs, "epoch")} in
        total · <EstimateLine estimate={estimate} pending={estimatePending} testId="estimate" />
      </div>
      {error ? (
        <div className="form-error" role="alert">
          {error}
          {strayErrors.length ? (
            <ul>
              {strayErrors.map(([p, m]) => (
                <li key={p}>
                  <code>{p}</code>: {m.join("; ")}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      <button type="submit" className="btn btn-primary" disabled={pending}>
        {pending ? "Starting…" : "Start experiment"}
      </button>
    </div>
  );
}
