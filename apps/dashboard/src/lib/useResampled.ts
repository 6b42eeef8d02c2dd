import type { TActivationInfo, TActivationParam } from "@actlab/contracts";
import { useActivations } from "../api/hooks.js";
import { useDebounced } from "./useDebounced.js";

/** The catalog query for one activation with changed parameters; "" while they are the defaults. */
function paramQuery(name: string, values: Record<string, number>, params: TActivationParam[]): string {
  const changed = params.some((p) => values[p.name] !== undefined && values[p.name] !== p.default);
  if (!changed) return "";
  const q = new URLSearchParams({ activation: name });
  for (const p of params) q.set(p.name, String(values[p.name] ?? p.default));
  return q.toString();
}

/** One activation resampled with the user's parameters (the API computes f and f′). */
export function useResampled(base: TActivationInfo, values: Record<string, number>) {
  const query = useDebounced(paramQuery(base.name, values, base.params), 200);
  const q = useActivations(query);
  const hit = query ? q.data?.find((a) => a.name === base.name) : undefined;
  return { info: hit ?? base, loading: Boolean(query) && q.isFetching, error: query ? q.error : null };
}
