import type { TProvenance } from "@actlab/contracts";
import { Facts } from "../ui.js";

/** "OpenBLAS 0.3.29 (Haswell, 1 thread)" */
function library(l: TProvenance["backend"]["libraries"][number]): string {
  const detail = [l.core, l.threads === null ? null : `${l.threads} thread${l.threads === 1 ? "" : "s"}`]
    .filter(Boolean)
    .join(", ");
  return `${l.name}${l.version ? ` ${l.version}` : ""}${detail ? ` (${detail})` : ""}`;
}

/** What trained the run: the code, the engine, the runtime, the machine and the worker. */
export function ProvenanceFacts({ provenance: p }: { provenance: TProvenance }) {
  const { actlab, backend } = p;
  const commit = actlab.commit ? (
    <code key="commit" title={actlab.commit}>
      {actlab.commit.slice(0, 12)}
      {actlab.dirty ? " + uncommitted changes" : ""}
    </code>
  ) : (
    "unknown"
  );
  return (
    <div data-testid="run-provenance">
      <Facts
        items={[
          ["actlab", actlab.version],
          ["Commit", commit],
          ["Engine", `${backend.name}${backend.version ? ` ${backend.version}` : ""}`],
          ...(backend.libraries.length
            ? ([["Libraries", backend.libraries.map(library).join("; ")]] as [string, string][])
            : []),
          ["Node", `${p.node} (${p.platform})`],
          ["CPU", `${p.cpu.model} × ${p.cpu.cores}`],
          ["Worker", <code key="worker">{p.worker.id}</code>],
          ["Host", p.worker.hostname],
        ]}
      />
    </div>
  );
}
