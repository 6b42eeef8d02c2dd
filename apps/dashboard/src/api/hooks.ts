import type { ActlabClient, paths } from "@actlab/client";
import {
  cellKey,
  isTerminalRunStatus,
  type TActivationInfo,
  type TActivationName,
  type TCell,
  type TDatasetInfo,
  type TExperiment,
  type TExperimentList,
  type TExperimentSort,
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
import { useEffect, useRef } from "react";
import { useApiKey } from "../lib/auth.js";
import { apiClient, expectBody, expectOk } from "./client.js";

type TCreateBody = paths["/v1/experiments"]["post"]["requestBody"]["content"]["application/json"];

const ACTIVE: readonly TExperimentStatus[] = ["queued", "running"];
export const isActiveExperiment = (s: TExperimentStatus) => ACTIVE.includes(s);

export const keys = {
  experiments: (filter: ListFilter) => ["experiments", JSON.stringify(filter)] as const,
  experiment: (id: string) => ["experiment", id] as const,
  metrics: (id: string) => ["metrics", id] as const,
  run: (id: string) => ["run", id] as const,
  activations: (params: string) => ["activations", params] as const,
};

const PAGE_SIZE = 25;

/** What the experiment list shows: the API's filters and order, as the page's URL keeps them. */
export interface ListFilter {
  status: string | null;
  /** Part of the name. */
  q: string | null;
  activation: string | null;
  /** YYYY-MM-DD, UTC days, both included. */
  createdFrom: string | null;
  createdTo: string | null;
  sort: TExperimentSort | null;
}

/** A page at a time in the chosen order (the API's keyset cursor); every loaded page stays live. */
export function useExperiments(filter: ListFilter) {
  const key = useApiKey();
  return useInfiniteQuery({
    queryKey: keys.experiments(filter),
    queryFn: async ({ signal, pageParam }): Promise<TExperimentList> => {
      const { status, q, activation, createdFrom, createdTo, sort } = filter;
      const query = {
        limit: PAGE_SIZE,
        ...(status ? { status: status.split(",") as TExperimentStatus[] } : {}),
        ...(q ? { q } : {}),
        ...(activation ? { activation: activation.split(",") as TActivationName[] } : {}),
        ...(createdFrom ? { createdFrom } : {}),
        ...(createdTo ? { createdTo } : {}),
        ...(sort ? { sort } : {}),
        ...(pageParam ? { cursor: pageParam } : {}),
      };
      return expectOk(
        apiClient(key).GET("/v1/experiments", { params: { query }, signal }),
        ZExperimentList,
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

export function useExperiment(id: string, { enabled = true }: { enabled?: boolean } = {}) {
  const key = useApiKey();
  return useQuery({
    queryKey: keys.experiment(id),
    enabled,
    queryFn: async ({ signal }): Promise<TExperiment> =>
      expectOk(
        apiClient(key).GET("/v1/experiments/{id}", { params: { path: { id } }, signal }),
        ZExperiment,
        "experiment",
      ),
    // The SSE stream drives updates; this slow poll only covers a dropped stream.
    refetchInterval: (q) => (q.state.data && !isActiveExperiment(q.state.data.status) ? false : 5000),
  });
}

/**
 * The query of an experiment's metrics (its page, and each experiment of the compare page); with
 * `cell`, only that cell's runs (a big sweep's are too many to load at once).
 */
export const metricsQuery = (key: string, id: string, cell: TCell | null = null) => ({
  queryKey: [...keys.metrics(id), cell ? cellKey(cell) : "all"],
  queryFn: async ({ signal }: { signal: AbortSignal }): Promise<TMetricsResponse> =>
    expectOk(
      apiClient(key).GET("/v1/experiments/{id}/metrics", {
        params: { path: { id }, query: cell ? { cell: JSON.stringify(cell) } : {} },
        signal,
      }),
      ZMetricsResponse,
      "metrics",
    ),
});

/**
 * The experiment's metrics, polled every 10 s while `live` (it trains and the event stream is
 * down). When polling stops — it finished, or the stream is back — they are read once more: an
 * experiment that finished between two polls (a short continue, seen by the experiment's own
 * poll, never by the stream) would otherwise keep the epochs of the last poll. `enabled: false`
 * holds the fetch back (until the page knows which cell to ask for).
 */
export function useMetrics(
  id: string,
  live: boolean,
  cell: TCell | null = null,
  { enabled = true }: { enabled?: boolean } = {},
) {
  const key = useApiKey();
  const q = useQuery({ ...metricsQuery(key, id, cell), enabled, refetchInterval: live ? 10_000 : false });
  const wasLive = useRef(live);
  const { refetch } = q;
  useEffect(() => {
    if (wasLive.current && !live && enabled) void refetch();
    wasLive.current = live;
  }, [live, refetch, enabled]);
  return q;
}

export function useRun(id: string) {
  const key = useApiKey();
  return useQuery({
    queryKey: keys.run(id),
    queryFn: async ({ signal }): Promise<TRun> =>
      expectOk(apiClient(key).GET("/v1/runs/{id}", { params: { path: { id } }, signal }), ZRun, "run"),
    refetchInterval: (q) => (q.state.data && isTerminalRunStatus(q.state.data.status) ? false : 3000),
  });
}

/** The catalog; `params` (e.g. `activation=elu&alpha=0.5`) asks the API to resample one activation with those parameters. */
type ActivationsQuery = NonNullable<paths["/v1/activations"]["get"]["parameters"]["query"]>;

export function useActivations(params = "") {
  // `params` is a query string the sliders build; the API coerces its values to numbers.
  const query = Object.fromEntries(new URLSearchParams(params)) as unknown as ActivationsQuery;
  return useCatalog(keys.activations(params), {
    fetch: (client, signal) =>
      expectOk(
        client.GET("/v1/activations", { params: { query }, signal }),
        ZActivationCatalog,
        "activation catalog",
      ),
    list: (c): TActivationInfo[] => c.activations,
  });
}

export function usePresets() {
  return useCatalog(["presets"], {
    fetch: (client, signal) => expectOk(client.GET("/v1/presets", { signal }), ZPresetList, "preset list"),
    list: (c): TPresetInfo[] => c.presets,
  });
}

export function useDatasets() {
  return useCatalog(["datasets"], {
    fetch: (client, signal) => expectOk(client.GET("/v1/datasets", { signal }), ZDatasetList, "dataset list"),
    list: (c): TDatasetInfo[] => c.datasets,
  });
}

/** A catalog answer (activations, presets, datasets): fixed while the page lives, so fetched once. */
function useCatalog<B, T>(
  queryKey: readonly unknown[],
  {
    fetch,
    list,
  }: { fetch: (client: ActlabClient, signal: AbortSignal) => Promise<B>; list: (body: B) => T[] },
) {
  const key = useApiKey();
  return useQuery({
    queryKey: [...queryKey],
    queryFn: async ({ signal }): Promise<T[]> => list(await fetch(apiClient(key), signal)),
    placeholderData: keepPreviousData,
    staleTime: Number.POSITIVE_INFINITY,
  });
}

export function useCreateExperiment() {
  const key = useApiKey();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async ({ body, idempotencyKey }: { body: unknown; idempotencyKey: string }) =>
      expectOk(
        apiClient(key).POST("/v1/experiments", {
          // The form's draft; the API validates it and names each bad field.
          body: body as TCreateBody,
          params: { header: { "idempotency-key": idempotencyKey } },
        }),
        ZExperiment,
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
      expectOk(
        apiClient(key).POST("/v1/experiments/{id}/cancel", { params: { path: { id } } }),
        ZExperiment,
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
    mutationFn: async () =>
      expectBody(apiClient(key).DELETE("/v1/experiments/{id}", { params: { path: { id } } }), "delete"),
    onSuccess: () => {
      qc.removeQueries({ queryKey: keys.experiment(id) });
      qc.removeQueries({ queryKey: keys.metrics(id) });
      void qc.invalidateQueries({ queryKey: ["experiments"] });
    },
  });
}

export async function predict(apiKey: string, runId: string, pixels: number[]): Promise<TPrediction> {
  return expectOk(
    apiClient(apiKey).POST("/v1/runs/{id}/predict", {
      params: { path: { id: runId } },
      body: { inputs: [pixels], pixelScale: "unit" },
    }),
    ZPrediction,
    "prediction",
  );
}

/** Checks a key by making the cheapest authenticated call; throws ApiError (401/403) when it is wrong. */
export async function verifyKey(apiKey: string): Promise<void> {
  await expectOk(
    apiClient(apiKey).GET("/v1/experiments", { params: { query: { limit: 1 } } }),
    ZExperimentList,
    "experiment list",
  );
}
