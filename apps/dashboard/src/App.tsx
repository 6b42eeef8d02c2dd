import { lazy, Suspense } from "react";
import { Layout } from "./components/Layout.js";
import { Empty, Loading } from "./components/ui.js";
import { useAuth } from "./lib/auth.js";
import { Link, useLocation } from "./lib/router.js";
import { ExperimentsPage } from "./pages/ExperimentsPage.js";
import { NewExperimentPage } from "./pages/NewExperimentPage.js";
import { SignInPage } from "./pages/SignInPage.js";

// Chart-heavy screens (uPlot, KaTeX) load on demand so the first screen stays small.
const ExperimentPage = lazy(() =>
  import("./pages/ExperimentPage.js").then((m) => ({ default: m.ExperimentPage })),
);
const ComparePage = lazy(() => import("./pages/ComparePage.js").then((m) => ({ default: m.ComparePage })));
const RunPage = lazy(() => import("./pages/RunPage.js").then((m) => ({ default: m.RunPage })));
const ActivationsPage = lazy(() =>
  import("./pages/ActivationsPage.js").then((m) => ({ default: m.ActivationsPage })),
);

function Route() {
  const { pathname } = useLocation();
  const path = pathname.replace(/\/+$/, "") || "/";
  if (path === "/" || path === "/experiments") return <ExperimentsPage />;
  if (path === "/new" || path === "/experiments/new") return <NewExperimentPage />;
  const exp = path.match(/^\/experiments\/([^/]+)$/)?.[1];
  if (exp) return <ExperimentPage key={exp} id={decodeURIComponent(exp)} />;
  const run = path.match(/^\/runs\/([^/]+)$/)?.[1];
  if (run) return <RunPage key={run} id={decodeURIComponent(run)} />;
  if (path === "/activations") return <ActivationsPage />;
  if (path === "/compare") return <ComparePage />;
  return (
    <Empty title="Page not found.">
      <Link to="/">Back to experiments</Link>
    </Empty>
  );
}

export function App() {
  const { apiKey } = useAuth();
  if (!apiKey) return <SignInPage />;
  return (
    <Layout>
      <Suspense fallback={<Loading />}>
        <Route />
      </Suspense>
    </Layout>
  );
}
