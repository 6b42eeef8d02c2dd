import http from "node:http";
import https from "node:https";
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from "request-filtering-agent";
import { hostOf, type TargetPolicy, targetProblem } from "./policy.js";
import { signedHeaders } from "./sign.js";

/** What one delivery attempt came to, for the delivery log. */
export interface AttemptOutcome {
  /** The receiver answered 2xx. */
  ok: boolean;
  /** The receiver's status, null when no response came (refused, timeout, network error). */
  statusCode: number | null;
  /** Why it did not succeed, for the user; null when ok. */
  error: string | null;
  durationMs: number;
  /** The target is not allowed (WEBHOOK_ALLOWED_HOSTS): retrying cannot help. */
  refused: boolean;
}

/** How much of a receiver's answer is kept in the log. */
const SNIPPET_BYTES = 200;

/*
 * The outbound request. http(s).request with request-filtering-agent, whose agent checks the
 * address a socket actually connects to (every address a name resolves to, and address
 * literals), so a name that resolves to a private address is refused even when it looked public
 * when the webhook was made (DNS rebinding). Node's http client follows no redirects: a 3xx is a
 * failed attempt, so a receiver cannot bounce a delivery to an address the policy refuses.
 * The deadline covers the whole attempt (connect, TLS, headers, body).
 */
function agentFor(url: URL, policy: TargetPolicy): http.Agent {
  const options = policy.hosts.includes(hostOf(url))
    ? { allowPrivateIPAddress: true }
    : { allowIPAddressList: [...policy.cidrs] };
  return url.protocol === "https:"
    ? new RequestFilteringHttpsAgent({ keepAlive: false, ...options })
    : new RequestFilteringHttpAgent({ keepAlive: false, ...options });
}

/** request-filtering-agent's refusals read "DNS lookup <address>(…) is not allowed. Because, …". */
const isRefusal = (err: Error) => /^DNS lookup .* is not allowed/.test(err.message);

/**
 * POSTs one signed Standard Webhooks message (`body` is the JSON text `{ type, timestamp, data }`)
 * and reports what happened; never throws.
 */
export async function sendWebhook({
  url,
  secret,
  id,
  body,
  policy,
  timeoutMs,
  now = () => new Date(),
}: {
  url: string;
  secret: string;
  id: string;
  body: string;
  policy: TargetPolicy;
  timeoutMs: number;
  now?: () => Date;
}): Promise<AttemptOutcome> {
  const started = performance.now();
  const done = (
    o: Omit<AttemptOutcome, "durationMs" | "refused"> & { refused?: boolean },
  ): AttemptOutcome => ({
    refused: false,
    ...o,
    durationMs: Math.round(performance.now() - started),
  });
  const problem = targetProblem(url, policy);
  if (problem) return done({ ok: false, statusCode: null, error: `refused: ${problem}`, refused: true });
  const target = new URL(url);
  const agent = agentFor(target, policy);
  const headers = {
    "content-type": "application/json",
    "user-agent": "actlab-webhooks/1",
    ...signedHeaders({ secret, id, at: now(), body }),
  };
  const client = target.protocol === "https:" ? https : http;
  try {
    return await new Promise<AttemptOutcome>((resolve) => {
      const req = client.request(
        target,
        { method: "POST", agent, headers, signal: AbortSignal.timeout(timeoutMs) },
        (res) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          res.on("data", (chunk: Buffer) => {
            if (kept < SNIPPET_BYTES) chunks.push(chunk);
            kept += chunk.length;
          });
          res.on("error", () => {});
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            const snippet = Buffer.concat(chunks).subarray(0, SNIPPET_BYTES).toString("utf8");
            if (status >= 200 && status < 300) {
              resolve(done({ ok: true, statusCode: status, error: null }));
            } else if (status >= 300 && status < 400) {
              resolve(
                done({
                  ok: false,
                  statusCode: status,
                  error: `redirect to ${res.headers.location ?? "(no location)"} not followed`,
                }),
              );
            } else {
              resolve(
                done({
                  ok: false,
                  statusCode: status,
                  error: `HTTP ${status}${snippet ? `: ${snippet}` : ""}`,
                }),
              );
            }
          });
        },
      );
      req.on("error", (err: Error) => {
        if (isRefusal(err)) {
          resolve(done({ ok: false, statusCode: null, error: `refused: ${err.message}`, refused: true }));
        } else if (err.name === "AbortError" || err.name === "TimeoutError") {
          resolve(done({ ok: false, statusCode: null, error: `no answer within ${timeoutMs} ms` }));
        } else {
          resolve(done({ ok: false, statusCode: null, error: err.message || String(err) }));
        }
      });
      req.end(body);
    });
  } finally {
    agent.destroy();
  }
}
