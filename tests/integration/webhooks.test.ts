// A webhook end to end: registered through the API, an experiment trained by a real worker
// process, its experiment.finished delivered by that worker to a receiver on loopback and
// verified there with the Standard Webhooks library. Real Postgres, Redis and processes.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ZCreatedWebhook, ZWebhookDeliveryList } from "@actlab/contracts";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, startTestApi, type TestApi } from "../../apps/api/src/__tests__/helpers.js";
import { spawnWorker, type WorkerProcess, waitFor } from "../../apps/worker/src/__tests__/helpers.js";
import { TEST_REDIS_URL } from "../support/index.js";

// Loopback is refused unless allowed: tests allow it, in the API (which checks the URL) and in
// the worker (which checks the address it connects to).
const ALLOWED = { WEBHOOK_ALLOWED_HOSTS: "127.0.0.1" };

let api: TestApi;
let worker: WorkerProcess;
let server: Server;
const received: Array<{ headers: IncomingMessage["headers"]; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  api = await startTestApi("webhooks-e2e", ALLOWED);
  worker = spawnWorker({
    env: {
      DATABASE_URL: api.database.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: api.prefix,
      ACTLAB_BACKEND: "wasm",
      ...ALLOWED,
    },
  });
  await worker.waitForLog((l) => l.msg === "worker started");
});

afterAll(async () => {
  worker?.kill("SIGTERM");
  await worker?.exited;
  await api?.close();
  await new Promise((r) => server?.close(r));
});

describe("webhooks", () => {
  it("delivers experiment.finished to a registered receiver, signed so the Standard Webhooks library verifies it", async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/actlab`;
    const made = await api.app.inject({
      method: "POST",
      url: "/v1/webhooks",
      headers: bearer(api.keyA),
      payload: { url, events: ["experiment.finished"] },
    });
    expect(made.statusCode).toBe(201);
    const hook = ZCreatedWebhook.parse(made.json());

    const created = await api.app.inject({
      method: "POST",
      url: "/v1/experiments",
      headers: bearer(api.keyA),
      payload: {
        name: "hooked",
        dataset: { samples: 120 },
        model: { hiddenLayers: 1, units: 8 },
        variants: [{ activation: "relu" }],
        training: { epochs: 1, repeats: 1, batchSize: 24 },
      },
    });
    expect(created.statusCode).toBe(202);
    const experimentId = created.json().id as string;

    await waitFor(async () => (received.length ? true : null), {
      timeoutMs: 90_000,
      what: "the webhook delivery",
    });
    expect(received).toHaveLength(1);
    const [{ headers, body }] = received as [(typeof received)[number]];
    const message = new Webhook(hook.secret).verify(body, {
      "webhook-id": String(headers["webhook-id"]),
      "webhook-timestamp": String(headers["webhook-timestamp"]),
      "webhook-signature": String(headers["webhook-signature"]),
    });
    expect(message).toEqual({
      type: "experiment.finished",
      timestamp: expect.any(String),
      data: { experimentId, status: "succeeded" },
    });

    const log = await waitFor(
      async () => {
        const res = await api.app.inject({
          url: `/v1/webhooks/${hook.id}/deliveries`,
          headers: bearer(api.keyA),
        });
        const items = ZWebhookDeliveryList.parse(res.json()).items;
        return items[0]?.status === "delivered" ? items : null;
      },
      { timeoutMs: 10_000, what: "the delivery to be logged" },
    );
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ id: headers["webhook-id"], eventType: "experiment.finished", message });
    expect(log[0]!.attempts).toEqual([
      { at: expect.any(String), statusCode: 204, error: null, durationMs: expect.any(Number) },
    ]);
  });
});
