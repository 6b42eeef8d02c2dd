import type { Server } from "node:http";
import { createDb } from "@actlab/db";
import {
  checkEvictionPolicy,
  createRedis,
  createTrainingProducer,
  createWebhookProducer,
  pubsubChannels,
} from "@actlab/queue";
import { Worker } from "bullmq";
import type { Logger } from "pino";
import { CancelWatcher } from "./cancel-watcher.js";
import type { TEnv } from "./env.js";
import { startExclusiveWorkers } from "./exclusive-workers.js";
import { deliverWebhookJob } from "./jobs/deliver-webhook.definition.js";
import { handleDeliverWebhook } from "./jobs/deliver-webhook.handler.js";
import { trainRunJob } from "./jobs/train-run.definition.js";
import { handleTrainRun, type TrainRunContext } from "./jobs/train-run.handler.js";
import { createWorkerMetrics, serveMetrics } from "./metrics.js";
import { collectProvenance } from "./provenance.js";
import { startReconciler } from "./reconciler.js";
import { TrainerThread } from "./training-thread/trainer-thread.js";

export interface WorkerApp {
  backend: string;
  /** Stops after the current batch, hands the run back, closes everything. */
  close(): Promise<void>;
}

/**
 * Wires one worker process: the training thread (started first, so a GPU worker without its
 * GPU binding refuses to start before touching any queue), connections, the BullMQ worker(s),
 * the webhook delivery worker, the cancel watcher, the reconciler and the metrics endpoint.
 */
export async function startWorkerApp({
  env,
  logger,
  onFatal,
}: {
  env: TEnv;
  logger: Logger;
  /** The process can no longer train (its training thread died): stop it so it is restarted. */
  onFatal: (err: Error) => void;
}): Promise<WorkerApp> {
  const trainer = new TrainerThread({
    device: env.WORKER_DEVICE,
    ...(env.ACTLAB_BACKEND ? { force: env.ACTLAB_BACKEND } : {}),
    ...(env.ACTLAB_NATIVE_ADDON ? { nativeAddonPath: env.ACTLAB_NATIVE_ADDON } : {}),
    datasets: {
      ...(env.DATA_DIR ? { mnistFullDir: env.DATA_DIR } : {}),
      ...(env.FASHION_MNIST_DIR ? { fashionMnistDir: env.FASHION_MNIST_DIR } : {}),
    },
    onCrash: (err) => onFatal(err),
    replaceAfterRuns: env.TRAINER_REPLACE_AFTER_RUNS,
    onReplace: (info) => logger.info(info, "training thread replaced"),
  });
  const backend = await trainer.start();
  // Said once per process: why a better backend is not used (the native addon not built, …).
  for (const f of trainer.info?.fallbacks ?? []) {
    logger.warn(
      { backend: f.backend, reason: f.reason },
      `backend ${f.backend} unavailable, using the next one`,
    );
  }
  const provenance = await collectProvenance({
    engine: trainer.info?.engine ?? { name: backend, version: null, libraries: [] },
    workerId: env.WORKER_ID,
    ...(env.ACTLAB_COMMIT ? { commit: env.ACTLAB_COMMIT } : {}),
  });
  logger.info({ backend, blas: trainer.info?.blas ?? undefined, provenance }, "training backend ready");

  const connection = createRedis(env.REDIS_URL, { role: "worker" });
  const publisher = createRedis(env.REDIS_URL, { role: "producer" });
  const subscriber = createRedis(env.REDIS_URL, { role: "subscriber" });
  // On the worker connection (it waits for Redis instead of failing while still connecting);
  // not awaited, so a worker started before Redis is up still starts.
  void checkEvictionPolicy(connection).then((warning) => {
    if (warning) logger.warn(warning);
  });

  const db = createDb({
    url: env.DATABASE_URL,
    poolSize: env.DB_POOL_SIZE,
    connectionTimeoutMillis: env.DB_TIMEOUT_MS,
    queryTimeoutMillis: env.DB_TIMEOUT_MS,
    idleInTransactionTimeoutMillis: env.DB_TIMEOUT_MS,
    onIdleError: (err) => logger.warn({ err: err.message }, "idle postgres connection failed"),
  });
  const metrics = createWorkerMetrics({ workerId: env.WORKER_ID, device: env.WORKER_DEVICE });
  let metricsServer: Server | null = null;
  if (env.METRICS_PORT !== undefined) {
    metricsServer = await serveMetrics({
      registry: metrics.registry,
      port: env.METRICS_PORT,
      host: env.METRICS_HOST,
    });
    const address = metricsServer.address();
    logger.info(
      { port: typeof address === "object" && address ? address.port : env.METRICS_PORT },
      "metrics at /metrics",
    );
  }
  // Same QUEUE_PREFIX as the API, so both name the same cancel and event channels.
  const channels = pubsubChannels(env.QUEUE_PREFIX);
  const cancels = await CancelWatcher.start({ subscriber, logger, channels });
  const producer = createTrainingProducer({ connection: publisher, prefix: env.QUEUE_PREFIX });
  const webhooks = createWebhookProducer({ connection: publisher, prefix: env.QUEUE_PREFIX });

  const ctx: TrainRunContext = {
    db,
    publisher,
    channels,
    webhooks,
    logger,
    trainer,
    cancels,
    metrics,
    workerId: env.WORKER_ID,
    backend,
    provenance,
    cancelPollMs: env.CANCEL_POLL_MS,
    heartbeatMs: env.HEARTBEAT_MS,
    checkpointIntervalMs: env.CHECKPOINT_INTERVAL_MS,
    liveEventMs: env.LIVE_EVENT_INTERVAL_MS,
    shutdown: { requested: false, current: null },
  };

  // One run at a time per process; a GPU worker prefers training-gpu and takes training when idle.
  const queueNames = trainRunJob.queuesFor(env.WORKER_DEVICE);
  const consumers = startExclusiveWorkers({
    queueNames,
    connection,
    options: trainRunJob.workerOptions(env),
    processor: (job, token) => handleTrainRun(job, token, ctx),
    logger,
  });
  logger.info(
    {
      queues: queueNames,
      prefix: env.QUEUE_PREFIX,
      lockDurationMs: env.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
    },
    "worker started",
  );

  // Webhook deliveries: network waits beside the one training run, on the main thread.
  const deliveries = new Worker(
    deliverWebhookJob.queue,
    (job) =>
      handleDeliverWebhook(job, {
        db,
        logger,
        policy: env.WEBHOOK_ALLOWED_HOSTS,
        timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      }),
    { connection, ...deliverWebhookJob.workerOptions(env) },
  );
  deliveries.on("error", (err) => logger.warn({ err: err.message }, "webhook worker error"));

  const reconciler = startReconciler({
    db,
    redis: publisher,
    producer,
    webhooks,
    prefix: env.QUEUE_PREFIX,
    workerId: env.WORKER_ID,
    logger,
    metrics,
    staleMs: env.RECONCILE_STALE_MS,
    graceMs: env.RECONCILE_GRACE_MS,
    maxAttempts: env.MAX_RUN_ATTEMPTS,
    intervalMs: env.RECONCILE_INTERVAL_MS,
    lockMs: Math.max(500, Math.floor(env.RECONCILE_INTERVAL_MS * 0.8)),
  });

  let closing: Promise<void> | null = null;
  return {
    backend,
    close() {
      closing ??= (async () => {
        ctx.shutdown.requested = true;
        ctx.shutdown.current?.stop("shutdown");
        reconciler.stop();
        // Waits for the active job: it stops after the current batch and hands the run back.
        await consumers.close();
        await deliveries.close();
        await cancels.close();
        await trainer.close();
        await producer.close().catch(() => {});
        await webhooks.close().catch(() => {});
        await db.close();
        connection.disconnect();
        publisher.disconnect();
        if (metricsServer) await new Promise((resolve) => metricsServer?.close(resolve));
      })();
      return closing;
    },
  };
}
