import type { TRun } from "@actlab/contracts";
import { useState } from "react";
import { apiFetch } from "../../api/client.js";
import { useApiKey } from "../../lib/auth.js";
import { downloadBlob } from "../../lib/download.js";
import { errorMessage } from "../ui.js";

/** Fetches model.json with the key, then every weights file it names, and saves them side by side. */
export function ModelDownload({ run }: { run: TRun }) {
  const apiKey = useApiKey();
  const [state, setState] = useState<string | null>(null);
  const base = `/v1/runs/${run.id}/model/`;
  const download = async () => {
    setState("Downloading…");
    try {
      const model = (await apiFetch(apiKey, `${base}model.json`)) as {
        weightsManifest?: { paths?: string[] }[];
      };
      downloadBlob("model.json", JSON.stringify(model), "application/json");
      const paths = (model.weightsManifest ?? []).flatMap((g) => g.paths ?? []);
      for (const p of paths) {
        const res = await fetch(new URL(p, new URL(`${base}model.json`, window.location.href)), {
          headers: { authorization: `Bearer ${apiKey}` },
        });
        if (!res.ok) throw new Error(`${p}: ${res.status} ${res.statusText}`);
        downloadBlob(
          p.split("/").pop() ?? "weights.bin",
          await res.arrayBuffer(),
          "application/octet-stream",
        );
      }
      setState(`Saved model.json and ${paths.length} weights file${paths.length === 1 ? "" : "s"}.`);
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
