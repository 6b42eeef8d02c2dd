import type { paths } from "@actlab/client";
import { type TEstimate, ZEstimate } from "@actlab/contracts";
import { useQuery } from "@tanstack/react-query";
import { useApiKey } from "../lib/auth.js";
import { useDebounced } from "../lib/useDebounced.js";
import { apiClient, expectOk } from "./client.js";

type TEstimateBody = paths["/v1/experiments/estimate"]["post"]["requestBody"]["content"]["application/json"];

/**
 * `POST /v1/experiments/estimate` for a create body (a spec, or a preset id with overrides); null
 * asks nothing (a form the API would refuse). Keyed by the body's JSON, so equal bodies share one
 * answer, and refreshed every minute as runs finish and workers come and go.
 */
export function useEstimate(body: unknown | null) {
  const key = useApiKey();
  const json = useDebounced(body === null ? null : JSON.stringify(body), 400);
  return useQuery({
    queryKey: ["estimate", json],
    enabled: json !== null,
    staleTime: 60_000,
    refetchInterval: 60_000,
    retry: false,
    queryFn: async ({ signal }): Promise<TEstimate> =>
      expectOk(
        apiClient(key).POST("/v1/experiments/estimate", { body: JSON.parse(json!) as TEstimateBody, signal }),
        ZEstimate,
        "estimate",
      ),
  });
}
