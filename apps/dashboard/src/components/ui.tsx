import type { TExperimentStatus, TRunStatus } from "@actlab/contracts";
import type { ReactNode } from "react";
import { ApiError } from "../api/client.js";
import { Link } from "../lib/router.js";
import { statusStyle } from "../lib/statuses.js";

export function StatusBadge({ status }: { status: TExperimentStatus | TRunStatus }) {
  return (
    <span className="badge" style={statusStyle(status)} data-status={status}>
      {status}
    </span>
  );
}

/** The colour key of a variant in a table row; nothing when the variant has no colour. */
export function Swatch({ color }: { color: string | undefined }) {
  return color ? <i className="swatch" style={{ background: color }} /> : null;
}

/** A progress bar with its number; `value` in [0,1]. */
export function Progress({ value, status, label }: { value: number; status?: string; label?: string }) {
  const v = Math.max(0, Math.min(1, Number.isFinite(value) ? value : 0));
  return (
    <div className="progress-row">
      <div
        className="progress"
        style={statusStyle(status)}
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(v * 100)}
        aria-label={label ?? "progress"}
      >
        <div className="progress-fill" style={{ width: `${v * 100}%` }} />
      </div>
      <span className="progress-text">{label ?? `${Math.round(v * 100)}%`}</span>
    </div>
  );
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {what}…
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <strong>{title}</strong>
      {children ? <div>{children}</div> : null}
    </div>
  );
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401 || err.status === 403)
      return "The API key was rejected. Sign out and sign in with a valid key.";
    if (err.status === 404) return "Not found — it may have been deleted, or it belongs to another tenant.";
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  if (error instanceof ApiError && error.status === 404) {
    return (
      <div className="state state-empty" role="alert">
        <strong>Not found.</strong>
        <span>It may have been deleted, the link may be mistyped, or it belongs to another tenant.</span>
        <Link to="/">Back to experiments</Link>
      </div>
    );
  }
  return (
    <div className="state state-error" role="alert">
      <strong>Something went wrong.</strong> <span>{errorMessage(error)}</span>
      {retry ? (
        <button type="button" className="btn btn-small" onClick={retry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

export function Card({
  title,
  actions,
  children,
  className,
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  return (
    <section className={`card ${className ?? ""}`}>
      {title || actions ? (
        <header className="card-head">
          {title ? <h2>{title}</h2> : <span />}
          {actions ? <div className="card-actions">{actions}</div> : null}
        </header>
      ) : null}
      {children}
    </section>
  );
}

/** Label/value pairs, e.g. a run's backend and device. */
export function Facts({ items }: { items: [string, ReactNode][] }) {
  return (
    <dl className="facts">
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A row of toggle buttons choosing one of `options` ([value, label]): the cards' segmented control. */
export function Segmented<T extends string>({
  label,
  options,
  value,
  onChange,
}: {
  label: string;
  options: readonly (readonly [T, string])[];
  value: T;
  onChange: (value: T) => void;
}) {
  return (
    <fieldset className="segmented" aria-label={label}>
      {options.map(([v, text]) => (
        <button
          key={v}
          type="button"
          className={value === v ? "on" : ""}
          aria-pressed={value === v}
          onClick={() => onChange(v)}
        >
          {text}
        </button>
      ))}
    </fieldset>
  );
}
