import { ZCompareResponse, ZContinueResponse } from "@actlab/contracts";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useApiKey } from "../lib/auth.js";
import { downloadBlob, fileSlug } from "../lib/download.js";
import { apiClient, expectBody, expectOk } from "./client.js";
import { keys } from "./hooks.js";

/** `GET /v1/compare` for these experiments (in this order). */
export function useCompare(ids: readonly string[]) {
  const key = useApiKey();
  return useQuery({
    queryKey: ["compare", ...ids],
    enabled: ids.length >= 2,
    queryFn: async ({ signal }) =>
      expectOk(
        apiClient(key).GET("/v1/compare", { params: { query: { experiments: [...ids] } }, signal }),
        ZCompareResponse,
        "comparison",
      ),
  });
}

/**
 * `POST /v1/experiments/:id/continue`: the experiment comes back queued and its page goes live
 * again; the mutation's data is the runs that were not continued, each with why.
 */
export function useContinueExperiment(id: string) {
  const key = useApiKey();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (epochs: number) =>
      expectOk(
        apiClient(key).POST("/v1/experiments/{id}/continue", { params: { path: { id } }, body: { epochs } }),
        ZContinueResponse,
        "experiment",
      ),
    onSuccess: ({ notContinued: _, ...exp }) => {
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
  const csv = await expectBody(
    apiClient(apiKey).GET("/v1/experiments/{id}/metrics.csv", {
      params: { path: { id: exp.id } },
      parseAs: "text",
    }),
    "metrics.csv",
  );
  downloadBlob(`${fileSlug(exp.name)}-metrics.csv`, String(csv ?? ""), "text/csv");
}
