import { sleep } from "../../reliability/support/stack.js";

/** What a user's client does across a load balancer: plain requests, and event streams that resume. */

export interface Reply {
  status: number;
  ms: number;
  // biome-ignore lint/suspicious/noExplicitAny: scenarios read fields of many response shapes
  body: any;
}

export function apiClient(baseUrl: string, apiKey: string) {
  async function request(
    method: string,
    path: string,
    {
      body,
      headers = {},
      timeoutMs = 30_000,
    }: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<Reply> {
    const t0 = performance.now();
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: res.status, ms: performance.now() - t0, body: parsed };
  }

  /**
   * POST /v1/experiments with an Idempotency-Key, retried with the same key (up to `tries`
   * times) when the connection fails or the proxy answers 502/503/504: what a careful client
   * does, and what makes a replica dying mid-request harmless.
   */
  async function submit(spec: unknown, key: string, tries = 6) {
    const failures: string[] = [];
    for (let i = 0; i < tries; i++) {
      try {
        const r = await request("POST", "/v1/experiments", {
          body: spec,
          headers: { "idempotency-key": key },
        });
        if (r.status === 200 || r.status === 201 || r.status === 202) return { reply: r, failures };
        if (![502, 503, 504].includes(r.status))
          throw new Error(`POST answered ${r.status}: ${JSON.stringify(r.body)}`);
        failures.push(String(r.status));
      } catch (err) {
        if ((err as Error).message.startsWith("POST answered")) throw err;
        failures.push((err as Error).message);
      }
      await sleep(200 * (i + 1));
    }
    throw new Error(`POST with Idempotency-Key ${key} failed ${tries} times: ${failures.join("; ")}`);
  }

  return { request, submit };
}

export interface FollowedStream {
  /** Event ids in the order received (strings, as sent in `id:`). */
  ids: string[];
  types: string[];
  reconnects: number;
  done: Promise<void>;
  stop(): void;
}

/**
 * Follows an experiment's Server-Sent Events as a browser's EventSource does: when the stream
 * breaks it reconnects (after 250 ms) with `Last-Event-ID` set to the last id it saw, until
 * `experiment.finished` arrives or `timeoutMs` passes. (Hand-written: Node 20 has no EventSource,
 * and the reconnect is what the scenario is about, so it is kept in sight here.)
 */
export function followEvents(
  baseUrl: string,
  apiKey: string,
  experimentId: string,
  timeoutMs = 120_000,
): FollowedStream {
  const out: FollowedStream = { ids: [], types: [], reconnects: -1, done: Promise.resolve(), stop: () => {} };
  const abort = new AbortController();
  const deadline = Date.now() + timeoutMs;
  let finished = false;
  out.stop = () => abort.abort();
  out.done = (async () => {
    while (!finished && Date.now() < deadline && !abort.signal.aborted) {
      out.reconnects++;
      try {
        const last = out.ids.at(-1);
        const res = await fetch(`${baseUrl}/v1/experiments/${experimentId}/events`, {
          headers: {
            authorization: `Bearer ${apiKey}`,
            accept: "text/event-stream",
            ...(last ? { "last-event-id": last } : {}),
          },
          signal: AbortSignal.any([abort.signal, AbortSignal.timeout(Math.max(1, deadline - Date.now()))]),
        });
        if (res.status !== 200 || !res.body) throw new Error(`events answered ${res.status}`);
        const decoder = new TextDecoder();
        let buffer = "";
        for await (const chunk of res.body) {
          buffer += decoder.decode(chunk as Uint8Array, { stream: true });
          let cut = buffer.indexOf("\n\n");
          while (cut >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            cut = buffer.indexOf("\n\n");
            const fields = Object.fromEntries(
              block
                .split("\n")
                .filter((l) => l && !l.startsWith(":"))
                .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]),
            );
            if (!fields.id) continue;
            out.ids.push(fields.id);
            out.types.push(fields.event ?? "message");
            if (fields.event === "experiment.finished") finished = true;
          }
          if (finished) break;
        }
      } catch {
        // A broken stream (the replica died, the proxy cut it): reconnect below.
      }
      if (!finished) await sleep(250);
    }
  })();
  return out;
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
