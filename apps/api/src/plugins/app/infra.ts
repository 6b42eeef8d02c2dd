import { createDb } from "@actlab/db";
import {
  checkEvictionPolicy,
  createRedis,
  createTrainingProducer,
  createWebhookProducer,
  type RedisConnection,
} from "@actlab/queue";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { ApiKeyVerifier, ensureBootstrapKey } from "../../services/api-keys.js";
import { DatasetCatalog } from "../../services/datasets.js";
import { EventHub } from "../../services/event-hub.js";
import { ModelCache } from "../../services/models.js";

/** Waits until the connection is usable, or gives up quietly (the API starts without Redis; /readyz says so). */
function waitReady(redis: { status: string; once(e: string, f: () => void): unknown }, ms: number) {
  if (redis.status === "ready") return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    redis.once("ready", () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/**
 * Connections and services every route uses: Postgres (one pool), Redis for commands and one
 * for subscriptions, the BullMQ producers (training, webhook deliveries), the SSE fan-out, API-key verification, model cache,
 * the dataset list.
 */
async function infra(app: FastifyInstance) {
  const { config } = app;
  const db = createDb({
    url: config.DATABASE_URL,
    poolSize: config.DB_POOL_SIZE,
    connectionTimeoutMillis: 5_000,
    // A Postgres that stops answering must become a 503, not a request that hangs.
    queryTimeoutMillis: 15_000,
    // A replica cut off mid-transaction must not hold a tenant's rows (or advisory lock) for hours.
    idleInTransactionTimeoutMillis: 15_000,
    onIdleError: (err) => app.log.warn({ err }, "idle postgres connection failed"),
  });
  const redis = createRedis(config.REDIS_URL, { role: "producer" });
  const sub = createRedis(config.REDIS_URL, { role: "subscriber" });
  const producer = createTrainingProducer({ connection: redis, prefix: config.QUEUE_PREFIX });
  const webhookProducer = createWebhookProducer({ connection: redis, prefix: config.QUEUE_PREFIX });
  const hub = new EventHub(sub);
  const apiKeys = new ApiKeyVerifier(db);

  app.decorate("db", db);
  app.decorate<RedisConnection>("redis", redis);
  app.decorate("producer", producer);
  app.decorate("webhookProducer", webhookProducer);
  app.decorate("hub", hub);
  app.decorate("apiKeys", apiKeys);
  app.decorate("models", new ModelCache(config.MODEL_CACHE_SIZE));
  app.decorate("sseStreams", new Set<() => void>());
  app.decorate(
    "datasets",
    new DatasetCatalog({ mnistFullDir: config.DATA_DIR, fashionMnistDir: config.FASHION_MNIST_DIR }),
  );

  // `apikey revoke` in another process: forget the cached row at once.
  hub.listen(app.channels.apiKeyRevoked, (prefix) => apiKeys.forget(prefix));

  app.addHook("onReady", async () => {
    if (config.ACTLAB_BOOTSTRAP_API_KEY) {
      const result = await ensureBootstrapKey(db, config.ACTLAB_BOOTSTRAP_API_KEY);
      if (result === "revoked") app.log.warn("ACTLAB_BOOTSTRAP_API_KEY was revoked; it stays revoked");
      else app.log.info({ result }, "bootstrap API key for tenant default");
    }
    if (await waitReady(redis, 2_000)) {
      const warning = await checkEvictionPolicy(redis);
      if (warning) app.log.warn(warning);
    } else {
      app.log.warn("Redis is not reachable yet; experiments are stored and enqueued once it is back");
    }
  });

  app.addHook("preClose", async () => {
    for (const end of [...app.sseStreams]) end();
  });
  app.addHook("onClose", async () => {
    app.models.clear();
    await producer.close().catch(() => {});
    await webhookProducer.close().catch(() => {});
    redis.disconnect();
    sub.disconnect();
    await db.close();
  });
}

export default fp(infra, { name: "actlab-infra" });
