import { EVENT_TYPES, type TExperiment, type TMetricsResponse } from "@actlab/contracts";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useApiKey } from "../lib/auth.js";
import { applyEventToExperiment, applyEventToMetrics, parseEvent } from "../lib/live.js";
import { keys } from "./hooks.js";

export type StreamState = "connecting" | "live" | "reconnecting" | "closed";

/**
 * Subscribes to an experiment's Server-Sent Events while it is active and folds each event into
 * the react-query cache. EventSource cannot send an Authorization header, so the key travels as
 * `?access_token=` (the API accepts it on this route only). EventSource reconnects by itself and
 * sends Last-Event-ID, so a dropped connection resumes where it stopped.
 */
export function useExperimentEvents(experimentId: string, active: boolean): StreamState {
  const apiKey = useApiKey();
  const qc = useQueryClient();
  const [state, setState] = useState<StreamState>(active ? "connecting" : "closed");

  useEffect(() => {
    if (!active) {
      setState("closed");
      return;
    }
    const url = `/v1/experiments/${encodeURIComponent(experimentId)}/events?access_token=${encodeURIComponent(apiKey)}`;
    const source = new EventSource(url);
    setState("connecting");
    source.onopen = () => setState("live");
    source.onerror = () => setState(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting");

    const handlers = EVENT_TYPES.map((type) => {
      const handler = (msg: MessageEvent<string>) => {
        const ev = parseEvent(type, msg.data);
        if (!ev) return;
        const exp = qc.getQueryData<TExperiment>(keys.experiment(experimentId));
        // Every cached cell of a sweep (keys.metrics is the prefix of each cell's key).
        qc.setQueriesData<TMetricsResponse>({ queryKey: keys.metrics(experimentId) }, (m) =>
          applyEventToMetrics(m, exp, ev),
        );
        qc.setQueryData<TExperiment>(keys.experiment(experimentId), (e) => applyEventToExperiment(e, ev));
        if (ev.type !== "run.epoch") {
          // Status changes carry summary numbers only the API computes: fetch them.
          void qc.invalidateQueries({ queryKey: keys.experiment(experimentId) });
          void qc.invalidateQueries({ queryKey: ["experiments"] });
          void qc.invalidateQueries({ queryKey: ["run", "runId" in ev.data ? ev.data.runId : ""] });
        }
        if (ev.type === "experiment.finished") {
          void qc.invalidateQueries({ queryKey: keys.metrics(experimentId) });
          source.close();
          setState("closed");
        }
      };
      source.addEventListener(type, handler as EventListener);
      return [type, handler] as const;
    });

    return () => {
      for (const [type, handler] of handlers) source.removeEventListener(type, handler as EventListener);
      source.close();
    };
  }, [experimentId, active, apiKey, qc]);

  return state;
}
