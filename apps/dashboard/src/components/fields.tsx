import { type ReactNode, useId } from "react";
import { type Bounds, describeBounds } from "../lib/bounds.js";

interface FieldShellProps {
  label: string;
  path: string;
  hint?: ReactNode;
  errors?: string[] | undefined;
  /** Renders the control with the wiring it must spread: id, name, aria-invalid, aria-describedby. */
  children: (control: ControlProps) => ReactNode;
  className?: string;
}

export interface ControlProps {
  id: string;
  name: string;
  "aria-invalid": true | undefined;
  "aria-describedby": string;
}

/** A labelled field whose API/validation errors appear right under it (matched by dotted path). */
export function FieldShell({ label, path, hint, errors, children, className }: FieldShellProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errId = `${id}-err`;
  return (
    <div className={`field ${errors?.length ? "has-error" : ""} ${className ?? ""}`} data-path={path}>
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      {children({
        id,
        name: path,
        "aria-invalid": errors?.length ? true : undefined,
        "aria-describedby": errors?.length ? errId : hintId,
      })}
      {errors?.length ? (
        <span className="field-error" id={errId} role="alert" data-error-for={path}>
          {errors.join("; ")}
        </span>
      ) : hint ? (
        <span className="field-hint" id={hintId}>
          {hint}
        </span>
      ) : null}
    </div>
  );
}

interface NumberFieldProps {
  label: string;
  path: string;
  value: number;
  bounds?: Bounds | undefined;
  onChange: (v: number) => void;
  errors?: string[] | undefined;
  step?: number | "any";
  extraHint?: string;
  className?: string;
}

export function NumberField({
  label,
  path,
  value,
  bounds,
  onChange,
  errors,
  step,
  extraHint,
  className,
}: NumberFieldProps) {
  const limits = bounds ? describeBounds(bounds) : "";
  const dflt =
    bounds && typeof bounds.default === "number"
      ? `default ${bounds.default.toLocaleString("en-US", { maximumFractionDigits: 10 })}`
      : "";
  const hint = [limits, dflt, extraHint].filter(Boolean).join(" · ");
  return (
    <FieldShell label={label} path={path} hint={hint} errors={errors} className={className}>
      {(control) => (
        <input
          {...control}
          type="number"
          inputMode={bounds?.int ? "numeric" : "decimal"}
          value={Number.isFinite(value) ? value : ""}
          min={bounds?.min ?? undefined}
          max={
            bounds?.max !== null && bounds?.max !== undefined && bounds.max < 1e15 ? bounds.max : undefined
          }
          step={step ?? (bounds?.int ? 1 : "any")}
          onChange={(e) => onChange(e.target.value === "" ? Number.NaN : Number(e.target.value))}
        />
      )}
    </FieldShell>
  );
}

interface SelectFieldProps<T extends string> {
  label: string;
  path: string;
  value: T;
  options: readonly (T | { value: T; label: string; disabled?: boolean })[];
  onChange: (v: T) => void;
  errors?: string[] | undefined;
  hint?: ReactNode;
  className?: string;
}

export function SelectField<T extends string>({
  label,
  path,
  value,
  options,
  onChange,
  errors,
  hint,
  className,
}: SelectFieldProps<T>) {
  return (
    <FieldShell label={label} path={path} hint={hint} errors={errors} className={className}>
      {(control) => (
        <select {...control} value={value} onChange={(e) => onChange(e.target.value as T)}>
          {options.map((o) => {
            const opt = typeof o === "string" ? { value: o, label: o, disabled: false } : o;
            return (
              <option key={opt.value} value={opt.value} disabled={opt.disabled}>
                {opt.label}
              </option>
            );
          })}
        </select>
      )}
    </FieldShell>
  );
}

export function TextField({
  label,
  path,
  value,
  onChange,
  errors,
  hint,
  maxLength,
}: {
  label: string;
  path: string;
  value: string;
  onChange: (v: string) => void;
  errors?: string[] | undefined;
  hint?: ReactNode;
  maxLength?: number;
}) {
  return (
    <FieldShell label={label} path={path} hint={hint} errors={errors}>
      {(control) => (
        <input
          {...control}
          type="text"
          value={value}
          maxLength={maxLength}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
    </FieldShell>
  );
}
