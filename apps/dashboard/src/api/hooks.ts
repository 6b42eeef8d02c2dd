import {
  cellKey,
  isTerminalRunStatus,
  type TActivationInfo,
  type TCell,
  type TDatasetInfo,
  type TExperiment,
  type TExperimentList,
  type TExperimentStatus,
  type TMetricsResponse,
  type TPrediction,
  type TPresetInfo,
  type TRun,
  ZActivationCatalog,
  ZDatasetList,
  ZExperiment,
  ZExperimentList,
  ZMetricsResponse,
  ZPrediction,
  ZPresetList,
  ZRun,
} from "@actlab/contracts";
import {
  keepPreviousData,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from "@tanstack/react-query";
import { useApiKey } from "../lib/auth.js";
import { apiFetch, parseWith } from "./client.js";

const ACTIVE: readonly TExperimentStatus[] = ["queued", "running"];
export const isActiveExperiment = (s: TExperimentStatus) => ACTIVE.includes(s);

export const keys = {
  experiments: (status: string | null) => ["experiments", status ?? "all"] as const,
  experiment: (id: string) => ["experiment", id] as const,
  metrics: (id: string) => ["metrics", id] as const,
  run: (id: string) => ["run", id] as const,
  activations: (params: string) => ["activations", params] as const,
};

const PAGE_SIZE = 25;

/** Newest first, a page at a time (the API's keyset cursor); every loaded page stays live. */
export function useExperiments(status: string | null) {
  const key = useApiKey();
  return useInfiniteQuery({
    queryKey: keys.experiments(status),
    queryFn: async ({ signal, pageParam }): Promise<TExperimentList> => {
      const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (status) q.set("status", status);
      if (pageParam) q.set("cursor", pageParam);
      return parseWith(
        ZExperimentList,
        await apiFetch(key, `/v1/experiments?${q}`, { signal }),
        "experiment list",
      );
    },
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    placeholderData: keepPreviousData,
    // Live without a reload: poll fast while anything trains, slowly otherwise.
    refetchInterval: (q) =>
      q.state.data?.pages.some((p) => p.items.some((e) => isActiveExperiment(e.status))) ? 2000 : 10_000,
  });
}

export function useExperiment(id: string) {
  const key = useApiKey();
  return useQuery({
    queryKey: keys.experiment(id),
    queryFn: async ({ signal }): Promise<TExperiment> =>
      parseWith(ZExperiment, await apiFetch(key, `/v1/experiments/${id}`, { signal }), "experiment"),
    // The SSE stream drives updates; this slow poll only covers a dropped stream.
    refetchInterval: (q) => (q.state.data && !isActiveExperiment(q.state.data.status) ? false : 5000),
  });
}

/** The experiment's metrics; with `cell`, only that cell's runs (a big sweep's are too many to load at once). */
export function useMetrics(id: string, live: boolean, cell: TCell | null = null) {
  const key = useApiKey();
  const query = cell ? `?cell=${encodeURIComponent(JSON.stringify(cell))}` : "";
  return useQuery({
    queryKey: [...keys.metrics(id), cell ? cellKey(cell) : "all"],
    queryFn: async ({ signal }): Promise<TMetricsResponse> =>
      parseWith(
        ZMetricsResponse,
        await apiFetch(key, `/v1/experiments/${id}/metrics${query}`, { signal }),
        "metrics",
      ),
    refetchInterval: live ? 10_000 : false,
  });
}

export function useRun(id: string) {
  const key = useApiKey();
  return useQuery({
    queryKey: keys.run(id),
    queryFn: async ({ signal }): Promise<TRun> =>
      parseWith(ZRun, await apiFetch(key, `/v1/runs/${id}`, { signal }), "run"),
    refetchInterval: (q) => (q.state.data && isTerminalRunStatus(q.state.data.status) ? false : 3000),
  });
}

/** The catalog; `params` (e.g. `activation=elu&alpha=0.5`) asks the API to resample one activation with those parameters. */
export function useActivations(params = "") {
  return useCatalog(keys.activations(params), `/v1/activations${params ? `?${params}` : ""}`, {
    schema: ZActivationCatalog,
    what: "activation catalog",
    list: (c): TActivationInfo[] => c.activations,
  });
}

export function usePresets() {
  return useCatalog(["presets"], "/v1/presets", {
    schema: ZPresetList,
    what: "preset list",
    list: (c): TPresetInfo[] => c.presets,
  });
}

export function useDatasets() {
  return useCatalog(["datasets"], "/v1/datasets", {
    schema: ZDatasetList,
    what: "dataset list",
    list: (c): TDatasetInfo[] => c.datasets,
  });
}

/** A catalog answer (activations, presets, datasets): fixed while the page lives, so fetched once. */
function useCatalog<B, T>(
  queryKey: readonly unknown[],
  path: string,
  {
    schema,
    what,
    list,
  }: { schema: Parameters<typeof parseWith<B>>[0]; what: string; list: (body: B) => T[] },
) {
  const key = useApiKey();
  return useQuery({
    queryKey: [...queryKey],
    queryFn: async ({ signal }): Promise<T[]> =>
      list(parseWith(schema, await apiFetch(key, path, { signal }), what)),
    placeholderData: keepPreviousData,
    staleTime: Number.POSITIVE_INFINITY,
  });
}

export function useCreateExperiment() {
  const key = useApiKey();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async ({ body, idempotencyKey }: { body: unknown; idempotencyKey: string }) =>
      parseWith(
        ZExperiment,
        await apiFetch(key, "/v1/experiments", {
          method: "POST",
          body,
          headers: { "idempotency-key": idempotencyKey },
        }),
        "experiment",
      ),
    onSuccess: (exp) => {
      qc.setQueryData(keys.experiment(exp.id), exp);
      void qc.invalidateQueries({ queryKey: ["experiments"] });
    },
  });
}

export function useCancelExperiment(id: string) {
  const key = useApiKey();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async () =>
      parseWith(
        ZExperiment,
        await apiFetch(key, `/v1/experiments/${id}/cancel`, { method: "POST" }),
        "experiment",
      ),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: keys.experiment(id) });
      void qc.invalidateQueries({ queryKey: ["experiments"] });
    },
  });
}

/** Pixels in [0,1]; `pixelScale: "unit"` lets the API rescale for runs trained on raw 0–255 pixels. */
export function useDeleteExperiment(id: string) {
  const key = useApiKey();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async () => apiFetch(key, `/v1/experiments/${id}`, { method: "DELETE" }),
    onSuccess: () => {
      qc.removeQueries({ queryKey: keys.experiment(id) });
      qc.removeQueries({ queryKey: keys.metrics(id) });
      void qc.invalidateQueries({ queryKey: ["experiments"] });
    },
  });
}

export async function predict(apiKey: string, runId: string, pixels: number[]): Promise<TPrediction> {
  return parseWith(
    ZPrediction,
    await apiFetch(apiKey, `/v1/runs/${runId}/predict`, {
      method: "POST",
      body: { inputs: [pixels], pixelScale: "unit" },
    }),
    "prediction",
  );
}

/** Checks a key by making the cheapest authenticated call; throws ApiError (401/403) when it is wrong. */
export async function verifyKey(apiKey: string): Promise<void> {
  await apiFetch(apiKey, "/v1/experiments?limit=1");
}
