import type { ReactNode } from "react";
import { useAuth } from "../lib/auth.js";
import { Link, useLocation } from "../lib/router.js";

const NAV = [
  {
    to: "/",
    label: "Experiments",
    match: (p: string) => p === "/" || p.startsWith("/experiments") || p.startsWith("/runs"),
  },
  { to: "/new", label: "New experiment", match: (p: string) => p === "/new" },
  { to: "/activations", label: "Activations", match: (p: string) => p.startsWith("/activations") },
];

export function Layout({ children }: { children: ReactNode }) {
  const { pathname } = useLocation();
  const { signOut } = useAuth();
  return (
    <div className="shell">
      <header className="topbar">
        <Link to="/" className="brand" aria-label="actlab home">
          <svg viewBox="0 0 24 16" width="28" height="18" aria-hidden="true">
            <path d="M1 14 C9 14 9 2 23 2" stroke="currentColor" strokeWidth="2.5" fill="none" />
          </svg>
          actlab
        </Link>
        <nav className="nav" aria-label="main">
          {NAV.map((n) => (
            <Link
              key={n.to}
              to={n.to}
              className={n.match(pathname) ? "active" : ""}
              aria-current={n.match(pathname) ? "page" : undefined}
            >
              {n.label}
            </Link>
          ))}
        </nav>
        <button type="button" className="btn btn-ghost btn-small signout" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main className="main">{children}</main>
    </div>
  );
}
