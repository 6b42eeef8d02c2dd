import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/** One request a receiver got. */
export interface ReceivedHook {
  at: number;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface WebhookReceiver {
  /** http://127.0.0.1:<port>/hook */
  url: string;
  port: number;
  received: ReceivedHook[];
  close(): Promise<void>;
}

/**
 * A real HTTP receiver on loopback for webhook tests. `answer` writes each response; it gets the
 * request and how many requests with this `webhook-id` came so far (1 for the first attempt).
 */
export async function startWebhookReceiver(
  answer: (hit: ReceivedHook, res: ServerResponse, attempt: number) => void = (_, res) =>
    res.writeHead(204).end(),
): Promise<WebhookReceiver> {
  const received: ReceivedHook[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const hit = { at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      received.push(hit);
      const attempt = received.filter((h) => h.headers["webhook-id"] === req.headers["webhook-id"]).length;
      answer(hit, res, attempt);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Verifies a received request with the Standard Webhooks library (throws if it does not verify). */
export function verifyHook(secret: string, hit: ReceivedHook): unknown {
  return new Webhook(secret).verify(hit.body, {
    "webhook-id": String(hit.headers["webhook-id"]),
    "webhook-timestamp": String(hit.headers["webhook-timestamp"]),
    "webhook-signature": String(hit.headers["webhook-signature"]),
  });
}
