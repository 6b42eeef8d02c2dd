import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from "react";

/*
 * A deliberately tiny history router. The dashboard has six fixed screens, so a routing
 * library (and its ~10 KB) buys nothing here: paths are matched with a handful of regexes
 * in App.tsx, and links push onto window.history. The API serves index.html for every
 * unknown path, so deep links and reloads work.
 */

const listeners = new Set<() => void>();
const notify = () => {
  for (const l of listeners) l();
};
if (typeof window !== "undefined") window.addEventListener("popstate", notify);

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export interface Location {
  pathname: string;
  search: string;
}

let cached: Location = { pathname: "/", search: "" };
function snapshot(): Location {
  const { pathname, search } = window.location;
  if (cached.pathname !== pathname || cached.search !== search) cached = { pathname, search };
  return cached;
}

export function useLocation(): Location {
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  window.scrollTo(0, 0);
  notify();
}

export function useSearchParam(name: string): [string | null, (v: string | null) => void] {
  const { search } = useLocation();
  const value = new URLSearchParams(search).get(name);
  const set = (v: string | null) => {
    const params = new URLSearchParams(window.location.search);
    if (v === null || v === "") params.delete(name);
    else params.set(name, v);
    const q = params.toString();
    navigate(window.location.pathname + (q ? `?${q}` : ""), { replace: true });
  };
  return [value, set];
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string };

/** An <a> that navigates without a page load (but still opens in a new tab on ctrl/⌘-click). */
export function Link({ to, onClick, ...rest }: LinkProps) {
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={handle} {...rest} />;
}
