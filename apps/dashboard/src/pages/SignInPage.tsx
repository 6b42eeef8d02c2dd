import { type FormEvent, useState } from "react";
import { ApiError } from "../api/client.js";
import { verifyKey } from "../api/hooks.js";
import { useAuth } from "../lib/auth.js";

function explain(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return "That API key was not accepted: it is unknown, mistyped or revoked.";
    if (err.status === 403) return "That API key is valid but lacks permission to read experiments.";
    if (err.status === 0) return err.message;
    return `The API answered ${err.status}: ${err.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export function SignInPage() {
  const { signIn, notice } = useAuth();
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setError("Paste an API key first.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await verifyKey(trimmed);
      signIn(trimmed);
    } catch (err) {
      setError(explain(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="signin">
      <form className="card signin-card" onSubmit={submit} noValidate>
        <h1>
          <svg viewBox="0 0 24 16" width="32" height="20" aria-hidden="true">
            <path d="M1 14 C9 14 9 2 23 2" stroke="currentColor" strokeWidth="2.5" fill="none" />
          </svg>{" "}
          actlab
        </h1>
        <p className="muted">
          Which hidden activation lets a deep network train? Sign in to run and compare experiments.
        </p>
        {notice && !error ? (
          <p className="notice" role="status">
            {notice}
          </p>
        ) : null}
        <label className="field">
          <span className="field-label">API key</span>
          <input
            name="apiKey"
            type="password"
            autoComplete="current-password"
            placeholder="actlab_…"
            value={key}
            onChange={(e) => setKey(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? "signin-error" : "signin-hint"}
            // biome-ignore lint/a11y/noAutofocus: the only field on the sign-in screen
            autoFocus
          />
          {error ? (
            <span className="field-error" id="signin-error" role="alert">
              {error}
            </span>
          ) : (
            <span className="field-hint" id="signin-hint">
              Create one with <code>npm run apikey -- create --tenant &lt;name&gt;</code>. It is kept in this
              browser only.
            </span>
          )}
        </label>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
