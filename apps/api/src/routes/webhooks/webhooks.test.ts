import {
  WEBHOOK_LIMITS,
  ZCreatedWebhook,
  ZProblem,
  ZWebhookDeliveryList,
  ZWebhookList,
} from "@actlab/contracts";
import { WEBHOOK_QUEUE } from "@actlab/queue";
import { Queue } from "bullmq";
import { describe, expect, it } from "vitest";
import { bearer, request, SMALL_SPEC, testApiForFile } from "../../__tests__/helpers.js";

const t = testApiForFile("webhooks");

const create = (key: string, payload: unknown) =>
  t.app.inject({ method: "POST", url: "/v1/webhooks", headers: bearer(key), payload: payload as object });

const HOOK = { url: "https://hooks.example.com/actlab", events: ["experiment.finished", "run.failed"] };

describe("POST/GET/DELETE /v1/webhooks", () => {
  it("creates a webhook whose secret is shown once, lists it without the secret, deletes it", async () => {
    const res = await create(t.keyA, HOOK);
    expect(res.statusCode).toBe(201);
    const created = ZCreatedWebhook.parse(res.json());
    expect(created).toMatchObject(HOOK);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(res.headers.location).toBe(`/v1/webhooks/${created.id}`);

    const list = await t.app.inject({ method: "GET", url: "/v1/webhooks", headers: bearer(t.keyA) });
    expect(list.statusCode).toBe(200);
    const items = ZWebhookList.parse(list.json()).items;
    expect(items).toEqual([
      { id: created.id, url: HOOK.url, events: HOOK.events, createdAt: created.createdAt },
    ]);
    expect(list.body).not.toContain(created.secret);

    const del = await request(t, "DELETE", `/v1/webhooks/${created.id}`);
    expect(del.statusCode).toBe(204);
    const again = await request(t, "DELETE", `/v1/webhooks/${created.id}`);
    expect(again.statusCode).toBe(404);
    expect(
      ZWebhookList.parse(
        (await t.app.inject({ method: "GET", url: "/v1/webhooks", headers: bearer(t.keyA) })).json(),
      ).items,
    ).toEqual([]);
  });

  it("answers bad input with problem+json naming the field, and stores nothing", async () => {
    const cases: Array<[unknown, string]> = [
      [{ events: ["run.failed"] }, "url"],
      [{ url: "ftp://example.com/x", events: ["run.failed"] }, "url"],
      [{ url: "not a url", events: ["run.failed"] }, "url"],
      [
        { url: `https://example.com/${"x".repeat(WEBHOOK_LIMITS.maxUrlLength)}`, events: ["run.failed"] },
        "url",
      ],
      [{ url: "https://u:p@example.com/x", events: ["run.failed"] }, "url"],
      [{ url: "http://127.0.0.1:9/x", events: ["run.failed"] }, "url"],
      [{ url: "http://169.254.169.254/latest", events: ["run.failed"] }, "url"],
      [{ url: "http://localhost:9/x", events: ["run.failed"] }, "url"],
      [{ url: HOOK.url }, "events"],
      [{ url: HOOK.url, events: [] }, "events"],
      [{ url: HOOK.url, events: ["run.epoch"] }, "events.0"],
      [{ url: HOOK.url, events: ["run.failed", "run.failed"] }, "events"],
      [{ ...HOOK, secret: "mine" }, "(body)"], // unknown field: the secret is always made here
    ];
    for (const [payload, field] of cases) {
      const res = await create(t.keyA, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      const problem = ZProblem.parse(res.json());
      expect(
        problem.errors?.map((e) => e.path),
        JSON.stringify(payload),
      ).toContain(field);
      if (field === "(body)") expect(JSON.stringify(problem.errors)).toContain("secret");
    }
    const notJson = await request(t, "POST", "/v1/webhooks", {
      payload: "{",
      headers: { "content-type": "application/json" },
    });
    expect(notJson.statusCode).toBe(400);
    const list = await t.app.inject({ method: "GET", url: "/v1/webhooks", headers: bearer(t.keyA) });
    expect(ZWebhookList.parse(list.json()).items).toEqual([]);
  });

  it("needs an API key", async () => {
    expect((await t.app.inject({ method: "GET", url: "/v1/webhooks" })).statusCode).toBe(401);
    expect((await t.app.inject({ method: "POST", url: "/v1/webhooks", payload: HOOK })).statusCode).toBe(401);
  });

  it("keeps tenants apart: another tenant neither lists, deletes nor reads the log of a webhook", async () => {
    const mine = ZCreatedWebhook.parse((await create(t.keyA, HOOK)).json());
    const theirs = await t.app.inject({ method: "GET", url: "/v1/webhooks", headers: bearer(t.keyB) });
    expect(ZWebhookList.parse(theirs.json()).items).toEqual([]);
    for (const [method, url] of [
      ["DELETE", `/v1/webhooks/${mine.id}`],
      ["GET", `/v1/webhooks/${mine.id}/deliveries`],
    ] as const) {
      const res = await t.app.inject({ method, url, headers: bearer(t.keyB) });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.body).not.toContain(mine.url);
    }
    expect((await request(t, "GET", "/v1/webhooks/not-a-uuid/deliveries")).statusCode).toBe(404);
    // Still there for its owner.
    const list = await t.app.inject({ method: "GET", url: "/v1/webhooks", headers: bearer(t.keyA) });
    expect(ZWebhookList.parse(list.json()).items.map((w) => w.id)).toContain(mine.id);
    await t.app.inject({ method: "DELETE", url: `/v1/webhooks/${mine.id}`, headers: bearer(t.keyA) });
  });

  it(`allows at most ${WEBHOOK_LIMITS.maxPerTenant} webhooks per tenant (409 past it)`, async () => {
    const made: string[] = [];
    for (let i = 0; i < WEBHOOK_LIMITS.maxPerTenant; i++) {
      const res = await create(t.keyB, { url: `https://example.com/${i}`, events: ["run.failed"] });
      expect(res.statusCode).toBe(201);
      made.push(res.json().id);
    }
    const over = await create(t.keyB, { url: "https://example.com/over", events: ["run.failed"] });
    expect(over.statusCode).toBe(409);
    expect(ZProblem.parse(over.json()).detail).toMatch(/at most 20 webhooks/);
    for (const id of made)
      await t.app.inject({ method: "DELETE", url: `/v1/webhooks/${id}`, headers: bearer(t.keyB) });
  });
});

describe("OpenAPI", () => {
  it("documents each webhook operation with a verb operationId, bearer security and its 4xx problems", async () => {
    const doc = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json();
    const ops = [
      ["/v1/webhooks", "post", "createWebhook", "201"],
      ["/v1/webhooks", "get", "listWebhooks", "200"],
      ["/v1/webhooks/{id}", "delete", "deleteWebhook", "204"],
      ["/v1/webhooks/{id}/deliveries", "get", "listWebhookDeliveries", "200"],
    ] as const;
    for (const [path, method, operationId, ok] of ops) {
      const op = doc.paths[path][method];
      expect(op.operationId).toBe(operationId);
      expect(op.security).toEqual([{ bearerAuth: [] }]);
      expect(op.tags).toEqual(["webhooks"]);
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining([ok, "400", "401"]));
    }
    expect(Object.keys(doc.paths["/v1/webhooks"].post.responses)).toContain("409");
  });
});

describe("deliveries", () => {
  it("an experiment finished by a cancel makes one pending delivery per subscribed webhook, enqueued and logged", async () => {
    const finished = ZCreatedWebhook.parse(
      (await create(t.keyA, { url: "https://a.example.com/f", events: ["experiment.finished"] })).json(),
    );
    const failedOnly = ZCreatedWebhook.parse(
      (await create(t.keyA, { url: "https://a.example.com/r", events: ["run.failed"] })).json(),
    );
    const otherTenant = ZCreatedWebhook.parse(
      (await create(t.keyB, { url: "https://b.example.com/f", events: ["experiment.finished"] })).json(),
    );
    const exp = await request(t, "POST", "/v1/experiments", { payload: SMALL_SPEC });
    const experimentId = exp.json().id as string;
    const cancel = await request(t, "POST", `/v1/experiments/${experimentId}/cancel`);
    expect(cancel.json().status).toBe("canceled");

    const log = async (id: string, key: string) =>
      ZWebhookDeliveryList.parse(
        (
          await t.app.inject({ method: "GET", url: `/v1/webhooks/${id}/deliveries`, headers: bearer(key) })
        ).json(),
      ).items;
    const [delivery, ...more] = await log(finished.id, t.keyA);
    expect(more).toEqual([]);
    expect(delivery).toMatchObject({
      webhookId: finished.id,
      eventType: "experiment.finished",
      status: "pending",
      attempts: [],
      finishedAt: null,
      message: { type: "experiment.finished", data: { experimentId, status: "canceled" } },
    });
    expect(Date.parse(delivery!.message.timestamp)).not.toBeNaN();
    expect(await log(failedOnly.id, t.keyA)).toEqual([]); // canceled runs are not failures
    expect(await log(otherTenant.id, t.keyB)).toEqual([]);

    // Enqueued for the workers: one job, its id the delivery's.
    const queue = new Queue(WEBHOOK_QUEUE, { connection: t.app.redis, prefix: t.prefix });
    try {
      const job = await queue.getJob(delivery!.id);
      expect(job?.data).toEqual({ deliveryId: delivery!.id });
      expect(job?.opts.attempts).toBe(8);
    } finally {
      await queue.close();
    }
  });
});
