/*
 * Reads a field's limits and default straight from the contracts' zod schemas, so the form's
 * hints and input min/max can never disagree with what the API enforces.
 */

export interface Bounds {
  min: number | null;
  max: number | null;
  /** false for `gt`/`lt` (exclusive) limits */
  minInclusive: boolean;
  maxInclusive: boolean;
  int: boolean;
  default: unknown;
}

interface Introspectable {
  def?: {
    type?: string;
    defaultValue?: unknown;
    innerType?: unknown;
    checks?: { _zod?: { def?: Record<string, unknown> } }[];
  };
  unwrap?: () => unknown;
}

export function bounds(schema: unknown): Bounds {
  let s = schema as Introspectable;
  let dflt: unknown;
  // Peel default/prefault/optional wrappers, remembering the default on the way.
  for (let i = 0; i < 5 && s?.def && s.def.type !== "number"; i++) {
    if ("defaultValue" in s.def && dflt === undefined) dflt = s.def.defaultValue;
    const inner = s.def.innerType ?? s.unwrap?.();
    if (!inner) break;
    s = inner as Introspectable;
  }
  const out: Bounds = {
    min: null,
    max: null,
    minInclusive: true,
    maxInclusive: true,
    int: false,
    default: dflt,
  };
  for (const c of s?.def?.checks ?? []) {
    const d = c._zod?.def;
    if (!d) continue;
    if (d["check"] === "greater_than") {
      out.min = d["value"] as number;
      out.minInclusive = Boolean(d["inclusive"]);
    } else if (d["check"] === "less_than") {
      out.max = d["value"] as number;
      out.maxInclusive = Boolean(d["inclusive"]);
    } else if (d["check"] === "number_format" && String(d["format"]).includes("int")) {
      out.int = true;
      // z.int() carries its own safe-integer range; explicit min/max checks override it below
    }
  }
  return out;
}

const show = (v: number) => v.toLocaleString("en-US");

/** "1–1000", "> 0 and ≤ 10", … for hints. */
export function describeBounds(b: Bounds): string {
  const min = b.min !== null && Math.abs(b.min) < 1e15 ? b.min : null;
  const max = b.max !== null && Math.abs(b.max) < 1e15 ? b.max : null;
  if (min !== null && max !== null && b.minInclusive && b.maxInclusive) return `${show(min)}–${show(max)}`;
  const parts: string[] = [];
  if (min !== null) parts.push(`${b.minInclusive ? "≥" : ">"} ${show(min)}`);
  if (max !== null) parts.push(`${b.maxInclusive ? "≤" : "<"} ${show(max)}`);
  return parts.join(" and ");
}
