import { ZCompareResponse, ZExperiment } from "@actlab/contracts";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useApiKey } from "../lib/auth.js";
import { downloadBlob, fileSlug } from "../lib/download.js";
import { apiFetch, apiText, parseWith } from "./client.js";
import { keys } from "./hooks.js";

/** `GET /v1/compare` for these experiments (in this order). */
export function useCompare(ids: readonly string[]) {
  const key = useApiKey();
  return useQuery({
    queryKey: ["compare", ...ids],
    enabled: ids.length >= 2,
    queryFn: async ({ signal }) =>
      parseWith(
        ZCompareResponse,
        await apiFetch(key, `/v1/compare?experiments=${ids.map(encodeURIComponent).join(",")}`, { signal }),
        "comparison",
      ),
  });
}

/** `POST /v1/experiments/:id/continue`: the experiment comes back queued and its page goes live again. */
export function useContinueExperiment(id: string) {
  const key = useApiKey();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (epochs: number) =>
      parseWith(
        ZExperiment,
        await apiFetch(key, `/v1/experiments/${id}/continue`, { method: "POST", body: { epochs } }),
        "experiment",
      ),
    onSuccess: (exp) => {
      qc.setQueryData(keys.experiment(id), exp);
      void qc.invalidateQueries({ queryKey: ["experiments"] });
    },
  });
}

/**
 * Downloads `GET /v1/experiments/:id/metrics.csv`. A plain link cannot send the API key (the API
 * takes it as a header), so the file is fetched, then offered from memory.
 */
export async function downloadMetricsCsv(apiKey: string, exp: { id: string; name: string }): Promise<void> {
  const csv = await apiText(apiKey, `/v1/experiments/${exp.id}/metrics.csv`, {
    headers: { accept: "text/csv" },
  });
  downloadBlob(`${fileSlug(exp.name)}-metrics.csv`, csv, "text/csv");
}
