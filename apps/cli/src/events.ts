import { type ActlabClient, ApiError, apiErrorFrom } from "@actlab/client";
import { type TExperimentEvent, ZExperimentEvent } from "@actlab/contracts";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { sleep } from "./sleep.js";

export interface StreamOptions {
  client: ActlabClient;
  experimentId: string;
  signal: AbortSignal;
  /** Told before each reconnect, with the id it resumes after. */
  onReconnect?: (info: { attempt: number; lastEventId: string | undefined; reason: string }) => void;
  /**
   * No byte for this long (the API sends a heartbeat comment every 15 s) means the connection is
   * dead even if TCP has not noticed: drop it and reconnect.
   */
  idleTimeoutMs?: number;
  /** First reconnect delay; doubles up to 10 s, back to this after an event arrives. */
  retryMs?: number;
}

export interface StreamedEvent {
  id: string | undefined;
  event: TExperimentEvent;
}

/**
 * An experiment's Server-Sent Events, across dropped connections: each reconnect sends
 * `Last-Event-ID`, so the API replays only what came after the last event seen and nothing is
 * doubled or missed. Ends after `experiment.finished` (which the API sends, replayed if need be,
 * for an experiment that already ended); a 4xx (unknown experiment, revoked key) throws ApiError.
 * Node's fetch has no EventSource, so the stream is read with fetch and parsed by eventsource-parser.
 */
export async function* experimentEvents(opts: StreamOptions): AsyncGenerator<StreamedEvent> {
  const { client, experimentId, signal, idleTimeoutMs = 45_000, retryMs = 500 } = opts;
  let lastEventId: string | undefined;
  let delay = retryMs;
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0) {
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 10_000);
    }
    const connection = new AbortController();
    const abort = () => connection.abort(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => connection.abort(new Error(`no data for ${idleTimeoutMs} ms`)), idleTimeoutMs);
    };
    let reason = "the stream ended";
    try {
      armIdle();
      const res = await client.GET("/v1/experiments/{id}/events", {
        params: { path: { id: experimentId }, header: lastEventId ? { "last-event-id": lastEventId } : {} },
        parseAs: "stream",
        signal: connection.signal,
      });
      if (!res.response.ok) {
        const error = apiErrorFrom(res.response, res.error, "the event stream");
        if (res.response.status < 500) throw error;
        reason = error.message;
        continue;
      }
      const messages = (res.data as unknown as ReadableStream<Uint8Array>)
        .pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, ctl) {
              armIdle(); // any byte, heartbeat comments included, proves the connection alive
              ctl.enqueue(chunk);
            },
          }),
        )
        .pipeThrough(new TextDecoderStream())
        .pipeThrough(new EventSourceParserStream());
      for await (const msg of messages) {
        if (msg.id) lastEventId = msg.id;
        delay = retryMs;
        const parsed = ZExperimentEvent.safeParse({ type: msg.event, data: safeJson(msg.data) });
        if (!parsed.success) continue; // an event type this CLI does not know yet
        yield { id: msg.id, event: parsed.data };
        if (parsed.data.type === "experiment.finished") return;
      }
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof ApiError) throw err;
      reason = (connection.signal.reason as Error | undefined)?.message ?? (err as Error).message;
    } finally {
      clearTimeout(idle);
      signal.removeEventListener("abort", abort);
      connection.abort();
    }
    if (signal.aborted) return;
    opts.onReconnect?.({ attempt: attempt + 1, lastEventId, reason });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
