import { type TRun, variantLabel, ZModelJson } from "@actlab/contracts";
import { useState } from "react";
import { apiClient, expectOk } from "../../api/client.js";
import { useApiKey } from "../../lib/auth.js";
import { downloadBlob } from "../../lib/download.js";
import { count } from "../../lib/progress.js";
import { errorMessage } from "../ui.js";

/**
 * The saved files' base name, by run: `actlab-relu-repeat0-1a2b3c4d`, so models of several runs can
 * sit in one folder. (`tf.io.browserFiles` matches weights by the names the manifest gives them.)
 */
export function modelFileBase(run: Pick<TRun, "id" | "variant" | "repeat">): string {
  const label = variantLabel(run.variant).replace(/[^\w.-]+/g, "_");
  return `actlab-${label}-repeat${run.repeat}-${run.id.slice(0, 8)}`;
}

/**
 * Fetches model.json with the key, then every weights file it names, and saves them side by side
 * named by run (`<base>.json`, `<base>.weights.bin`, as tf.js' own `downloads://` saves), with
 * the manifest rewritten to the new weights names so the pair loads as it is.
 */
export function ModelDownload({ run }: { run: TRun }) {
  const apiKey = useApiKey();
  const [state, setState] = useState<string | null>(null);
  const base = `/v1/runs/${run.id}/model/`;
  const download = async () => {
    setState("Downloading…");
    try {
      const model = await expectOk(
        apiClient(apiKey).GET("/v1/runs/{id}/model/model.json", { params: { path: { id: run.id } } }),
        ZModelJson,
        "model.json",
      );
      const name = modelFileBase(run);
      const paths = (model.weightsManifest ?? []).flatMap((g) => g.paths ?? []);
      const savedAs = new Map(
        paths.map((p, i) => [p, paths.length === 1 ? `${name}.weights.bin` : `${name}.weights${i + 1}.bin`]),
      );
      const renamed = {
        ...model,
        weightsManifest: (model.weightsManifest ?? []).map((g) => ({
          ...g,
          paths: (g.paths ?? []).map((p) => savedAs.get(p) ?? p),
        })),
      };
      downloadBlob(`${name}.json`, JSON.stringify(renamed), "application/json");
      for (const p of paths) {
        const res = await fetch(new URL(p, new URL(`${base}model.json`, window.location.href)), {
          headers: { authorization: `Bearer ${apiKey}` },
        });
        if (!res.ok) throw new Error(`${p}: ${res.status} ${res.statusText}`);
        downloadBlob(savedAs.get(p) ?? p, await res.arrayBuffer(), "application/octet-stream");
      }
      setState(`Saved ${name}.json and ${count(paths.length, "weights file")}.`);
    } catch (e) {
      setState(`Download failed: ${errorMessage(e)}`);
    }
  };
  return (
    <div className="model-download">
      <button type="button" className="btn btn-small" onClick={download} data-testid="model-download">
        Download model (TensorFlow.js)
      </button>
      {state ? <span className="muted small">{state}</span> : null}
      <details className="small">
        <summary>Load it in code</summary>
        <pre>{`// TensorFlow.js (browser or Node)
const model = await tf.loadLayersModel("${window.location.origin}${base}model.json", {
  requestInit: { headers: { Authorization: "Bearer <your key>" } },
});

# or fetch the files
curl -H "Authorization: Bearer $ACTLAB_KEY" ${window.location.origin}${base}model.json`}</pre>
      </details>
    </div>
  );
}
