import { lazy, Suspense } from "react";
import { Layout } from "./components/Layout.js";
import { Empty, Loading } from "./components/ui.js";
import { useAuth } from "./lib/auth.js";
import { Link, useLocation } from "./lib/router.js";
import { Experiments } from "./pages/Experiments.js";
import { NewExperiment } from "./pages/NewExperiment.js";
import { SignIn } from "./pages/SignIn.js";

// Chart-heavy screens (uPlot, KaTeX) load on demand so the first screen stays small.
const ExperimentPage = lazy(() => import("./pages/ExperimentPage.js"));
const RunPage = lazy(() => import("./pages/RunPage.js"));
const ActivationsPage = lazy(() => import("./pages/ActivationsPage.js"));

function Route() {
  const { pathname } = useLocation();
  const path = pathname.replace(/\/+$/, "") || "/";
  if (path === "/" || path === "/experiments") return <Experiments />;
  if (path === "/new" || path === "/experiments/new") return <NewExperiment />;
  const exp = path.match(/^\/experiments\/([^/]+)$/)?.[1];
  if (exp) return <ExperimentPage key={exp} id={decodeURIComponent(exp)} />;
  const run = path.match(/^\/runs\/([^/]+)$/)?.[1];
  if (run) return <RunPage key={run} id={decodeURIComponent(run)} />;
  if (path === "/activations") return <ActivationsPage />;
  return (
    <Empty title="Page not found.">
      <Link to="/">Back to experiments</Link>
    </Empty>
  );
}

export function App() {
  const { apiKey } = useAuth();
  if (!apiKey) return <SignIn />;
  return (
    <Layout>
      <Suspense fallback={<Loading />}>
        <Route />
      </Suspense>
    </Layout>
  );
}
