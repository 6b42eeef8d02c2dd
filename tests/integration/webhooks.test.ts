// A webhook end to end: registered through the API, an experiment trained by a real worker
// process, its experiment.finished delivered by that worker to a receiver on loopback and
// verified there with the Standard Webhooks library. Real Postgres, Redis and processes.
import { ZCreatedWebhook, ZWebhookDeliveryList } from "@actlab/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, startTestApi, type TestApi } from "../../apps/api/src/__tests__/helpers.js";
import { spawnWorker, type WorkerProcess, waitFor } from "../../apps/worker/src/__tests__/helpers.js";
import { startWebhookReceiver, TEST_REDIS_URL, verifyHook, type WebhookReceiver } from "../support/index.js";

// Loopback is refused unless allowed: tests allow it, in the API (which checks the URL) and in
// the worker (which checks the address it connects to).
const ALLOWED = { WEBHOOK_ALLOWED_HOSTS: "127.0.0.1" };

let api: TestApi;
let worker: WorkerProcess;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
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
  await receiver?.close();
});

describe("webhooks", () => {
  it("delivers experiment.finished to a registered receiver, signed so the Standard Webhooks library verifies it", async () => {
    const { url, received } = receiver;
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
    const hit = received[0]!;
    const message = verifyHook(hook.secret, hit);
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
    expect(log[0]).toMatchObject({
      id: hit.headers["webhook-id"],
      eventType: "experiment.finished",
      message,
    });
    expect(log[0]!.attempts).toEqual([
      { at: expect.any(String), statusCode: 204, error: null, durationMs: expect.any(Number) },
    ]);
  });
});
