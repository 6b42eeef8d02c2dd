import { resolveExperimentRequest, type TWebhookEventType } from "@actlab/contracts";
import {
  findDeliveryToSend,
  finishFailed,
  insertExperiment,
  insertWebhook,
  type LifecycleContext,
  listWebhookDeliveries,
  planExperiment,
} from "@actlab/db";
import {
  createRedis,
  createTrainingProducer,
  createWebhookProducer,
  type WebhookProducer,
} from "@actlab/queue";
import { createSecret, sendWebhook } from "@actlab/webhooks";
import { Worker } from "bullmq";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  deletePrefix,
  startWebhookReceiver,
  TEST_REDIS_URL,
  type TestDatabase,
  testPrefix,
  verifyHook,
  type WebhookReceiver,
} from "../../../../tests/support/index.js";
import { parseEnv } from "../env.js";
import { createWorkerMetrics } from "../metrics.js";
import { reconcileOnce } from "../reconciler.js";
import { deliverWebhookJob } from "./deliver-webhook.definition.js";
import { handleDeliverWebhook } from "./deliver-webhook.handler.js";

const logger = pino({ level: "silent" });
const prefix = testPrefix("wh-deliver");
const connection = createRedis(TEST_REDIS_URL, { role: "worker" });
const webhooks = createWebhookProducer({ connection, prefix });
const env = parseEnv({
  REDIS_URL: TEST_REDIS_URL,
  QUEUE_PREFIX: prefix,
  // Tests receive on loopback: 127.0.0.1 only (127.0.0.2 stays refused).
  WEBHOOK_ALLOWED_HOSTS: "127.0.0.1",
  WEBHOOK_RETRY_BASE_MS: "20",
  WEBHOOK_TIMEOUT_MS: "2000",
});
let database: TestDatabase;
let worker: Worker;
let tenantId: string;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  database = await createTestDatabase("wh-deliver");
  tenantId = (await database.db.tenant.create({ data: { name: `t-${prefix}` } })).id;
  worker = new Worker(
    deliverWebhookJob.queue,
    (job) =>
      handleDeliverWebhook(job, {
        db: database.db,
        logger,
        policy: env.WEBHOOK_ALLOWED_HOSTS,
        timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      }),
    { connection, ...deliverWebhookJob.workerOptions(env) },
  );
});
afterAll(async () => {
  await worker?.close();
  await webhooks.close();
  await Promise.all(receivers.map((r) => r.close()));
  await deletePrefix(connection, prefix);
  connection.disconnect();
  await database?.drop();
});

/** A real receiver on loopback answering `status(attempt)` (attempt: 1 for a message's first). */
async function receiver(status: (attempt: number) => number) {
  const r = await startWebhookReceiver((_, res, attempt) => res.writeHead(status(attempt)).end());
  receivers.push(r);
  return { port: r.port, hits: r.received };
}

async function webhookAt(
  url: string,
  events: TWebhookEventType[] = ["experiment.finished", "run.failed"],
  tenant = tenantId,
) {
  const secret = createSecret();
  const out = await insertWebhook(database.db, { tenantId: tenant, url, events, secret, maxPerTenant: 100 });
  if (out.kind !== "inserted") throw new Error("webhook not inserted");
  return { id: out.webhook.id, secret };
}

/** An experiment of one run, and the lifecycle as a worker takes part in it (deliveries enqueued). */
async function oneRunExperiment(
  deliver: LifecycleContext["deliver"] = (ids) => webhooks.enqueueDeliveries(ids),
  tenant = tenantId,
) {
  const resolved = resolveExperimentRequest({
    name: "hooks",
    dataset: { samples: 100 },
    variants: [{ activation: "relu" }],
    training: { epochs: 1, repeats: 1, batchSize: 20 },
  });
  if (!resolved.ok) throw new Error("bad spec");
  const plan = planExperiment({ tenantId: tenant, spec: resolved.spec });
  await insertExperiment(database.db, plan, { maxActiveRuns: 1_000 });
  const ctx: LifecycleContext = { db: database.db, log: logger, publish: async () => {}, deliver };
  return { experimentId: plan.id, runId: plan.runs[0]!.id, ctx };
}

/** One reconciler pass over the deployment of `queuePrefix` (no grace: every pending delivery counts). */
async function reconcile(hooks: WebhookProducer, queuePrefix: string) {
  const producer = createTrainingProducer({ connection, prefix: queuePrefix });
  try {
    await reconcileOnce({
      db: database.db,
      redis: connection,
      producer,
      webhooks: hooks,
      prefix: queuePrefix,
      workerId: "test",
      logger,
      metrics: createWorkerMetrics({ workerId: "test", device: "cpu" }),
      staleMs: 60_000,
      graceMs: 0,
      maxAttempts: 3,
      lockMs: 1_000,
    });
  } finally {
    await producer.close();
  }
}

const deliveriesOf = (webhookId: string) => listWebhookDeliveries(database.db, { webhookId, limit: 100 });

/** Waits until the webhook's newest delivery ends `status`, and returns it. */
async function newestDeliveryEnds(webhookId: string, status: "delivered" | "failed", timeout: number) {
  await expect
    .poll(async () => (await deliveriesOf(webhookId))[0]?.status, { timeout, interval: 100 })
    .toBe(status);
  return (await deliveriesOf(webhookId))[0]!;
}

/** The run of a new one-run experiment fails: run.failed goes to the tenant's webhooks. */
async function failARun() {
  const { experimentId, runId, ctx } = await oneRunExperiment();
  await finishFailed(ctx, { runId, experimentId, error: "x" });
}

describe("webhook deliveries (BullMQ worker, real receiver on loopback)", () => {
  it("a failed run sends run.failed and experiment.finished, retried with backoff until the receiver takes them, each signed and verifiable", async () => {
    const r = await receiver((n) => (n <= 2 ? 500 : 204));
    const hook = await webhookAt(`http://127.0.0.1:${r.port}/hook`);
    const { experimentId, runId, ctx } = await oneRunExperiment();
    await finishFailed(ctx, { runId, experimentId, error: "out of memory" });

    await expect
      .poll(async () => (await deliveriesOf(hook.id)).map((d) => d.status), {
        timeout: 20_000,
        interval: 100,
      })
      .toEqual(["delivered", "delivered"]);
    const log = await deliveriesOf(hook.id);
    expect(log.map((d) => d.eventType).sort()).toEqual(["experiment.finished", "run.failed"]);
    for (const d of log) {
      expect(d.attempts.map((a) => a.statusCode)).toEqual([500, 500, 204]);
      expect(d.attempts.map((a) => a.error)).toEqual(["HTTP 500", "HTTP 500", null]);
      expect(d.finishedAt).not.toBeNull();
    }
    expect(r.hits).toHaveLength(6);

    for (const d of log) {
      const hits = r.hits.filter((h) => h.headers["webhook-id"] === d.id);
      expect(hits).toHaveLength(3);
      // The same message on every attempt; the receiver deduplicates on webhook-id.
      expect(new Set(hits.map((h) => h.body)).size).toBe(1);
      // Backoff: 20 ms, then 40 ms (WEBHOOK_RETRY_BASE_MS × 2^n).
      expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(15);
      expect(hits[2]!.at - hits[1]!.at).toBeGreaterThanOrEqual(35);
      for (const h of hits) expect(verifyHook(hook.secret, h)).toEqual(JSON.parse(d.body));
    }
    const messages = log.map((d) => JSON.parse(d.body));
    expect(messages).toContainEqual({
      type: "run.failed",
      timestamp: expect.any(String),
      data: { experimentId, runId, error: "out of memory" },
    });
    expect(messages).toContainEqual({
      type: "experiment.finished",
      timestamp: expect.any(String),
      data: { experimentId, status: "failed" },
    });
  });

  it("fails a delivery after its last attempt when the receiver keeps failing", async () => {
    const r = await receiver(() => 500);
    const hook = await webhookAt(`http://127.0.0.1:${r.port}/down`, ["run.failed"]);
    await failARun();
    const d = await newestDeliveryEnds(hook.id, "failed", 30_000);
    expect(d.attempts).toHaveLength(deliverWebhookJob.options.attempts);
    expect(r.hits).toHaveLength(deliverWebhookJob.options.attempts);
  });

  it("refuses a target WEBHOOK_ALLOWED_HOSTS does not allow on the first attempt, without retrying or connecting", async () => {
    const r = await receiver(() => 204);
    // 127.0.0.2 is loopback but not allowed (only 127.0.0.1 is); stored directly, as if DNS had
    // changed after the API checked the URL.
    const hook = await webhookAt(`http://127.0.0.2:${r.port}/x`, ["run.failed"]);
    await failARun();
    const d = await newestDeliveryEnds(hook.id, "failed", 15_000);
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0]).toMatchObject({ statusCode: null });
    expect(d.attempts[0]!.error).toMatch(/^refused: 127\.0\.0\.2 is not a public address/);
    expect(r.hits).toHaveLength(0);
  });

  it("a delivery whose enqueue failed stays pending and the reconciler enqueues it", async () => {
    const r = await receiver(() => 200);
    const hook = await webhookAt(`http://127.0.0.1:${r.port}/late`, ["run.failed"]);
    const { experimentId, runId, ctx } = await oneRunExperiment(async () => {
      throw new Error("Redis is down");
    });
    await finishFailed(ctx, { runId, experimentId, error: "x" });
    const [pending] = await deliveriesOf(hook.id);
    expect(pending?.status).toBe("pending");
    expect(await webhooks.queue.getJob(pending!.id)).toBeUndefined();

    await reconcile(webhooks, prefix);
    await newestDeliveryEnds(hook.id, "delivered", 15_000);
    expect(r.hits).toHaveLength(1);
  });

  it("a delivery whose worker stopped between its attempt and recording it ends failed, not pending forever", async () => {
    // A deployment of its own, so the suite's worker does not take the job, and a tenant of its
    // own, so the other tests' webhooks get no delivery.
    const stoppedPrefix = `${prefix}-stopped`;
    const hooks = createWebhookProducer({ connection, prefix: stoppedPrefix });
    const tenant = (await database.db.tenant.create({ data: { name: `t-${stoppedPrefix}` } })).id;
    const r = await receiver(() => 500);
    const hook = await webhookAt(`http://127.0.0.1:${r.port}/stopped`, ["run.failed"], tenant);
    const { experimentId, runId, ctx } = await oneRunExperiment(
      (ids) => hooks.enqueueDeliveries(ids),
      tenant,
    );
    // The worker sends the attempt, then stops before it records the outcome (it never returns,
    // its lock is never renewed again).
    const dying = new Worker(
      deliverWebhookJob.queue,
      async (job) => {
        const d = (await findDeliveryToSend(database.db, job.data.deliveryId))!;
        await sendWebhook({ ...d, policy: env.WEBHOOK_ALLOWED_HOSTS, timeoutMs: 2_000 });
        await new Promise(() => {});
      },
      // Its own stall check would hold off the survivor's for the default 30 s.
      { connection, prefix: stoppedPrefix, lockDuration: 300, skipStalledCheck: true },
    );
    // Another worker's stall check: with no stall allowed BullMQ fails the job at once (by
    // default it would retry once, and fail it on the second stall).
    const survivor = new Worker(deliverWebhookJob.queue, async () => {}, {
      connection,
      prefix: stoppedPrefix,
      autorun: false,
      stalledInterval: 200,
      maxStalledCount: 0,
    });
    try {
      await finishFailed(ctx, { runId, experimentId, error: "x" });
      await expect.poll(() => r.hits.length, { timeout: 10_000, interval: 100 }).toBe(1);
      await dying.close(true);
      void survivor.run();
      const [pending] = await deliveriesOf(hook.id);
      await expect
        .poll(() => hooks.queue.getJob(pending!.id).then((j) => j?.getState()), {
          timeout: 10_000,
          interval: 100,
        })
        .toBe("failed");
      expect((await deliveriesOf(hook.id))[0]).toMatchObject({ status: "pending", attempts: [] });

      await reconcile(hooks, stoppedPrefix);
      const [d] = await deliveriesOf(hook.id);
      expect(d!.status).toBe("failed");
      expect(d!.finishedAt).not.toBeNull();
      expect(d!.attempts).toHaveLength(1);
      expect(d!.attempts[0]!.error).toMatch(/^no outcome recorded: .*job stalled more than allowable limit/);
      // …and the pass after it leaves the delivery as it is, with no new attempt.
      await reconcile(hooks, stoppedPrefix);
      expect((await deliveriesOf(hook.id))[0]!.attempts).toHaveLength(1);
      expect(r.hits).toHaveLength(1);
    } finally {
      await survivor.close();
      await hooks.close();
      await deletePrefix(connection, stoppedPrefix);
    }
  });
});
