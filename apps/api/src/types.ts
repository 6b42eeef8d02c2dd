import type { Db } from "@actlab/db";
import type { PubSubChannels, RedisConnection, TrainingProducer, WebhookProducer } from "@actlab/queue";
import type { TEnv } from "./env.js";
import type { AppMetrics } from "./plugins/app/metrics.js";
import type { ApiKeyVerifier, AuthContext } from "./services/api-keys.js";
import type { DatasetCatalog } from "./services/datasets.js";
import type { EventHub } from "./services/event-hub.js";
import type { ModelCache } from "./services/models.js";

declare module "fastify" {
  interface FastifyInstance {
    config: TEnv;
    db: Db;
    /** Commands (queue, publish, rate limit); fails fast while Redis is down. */
    redis: RedisConnection;
    producer: TrainingProducer;
    /** Enqueues webhook deliveries of the events the API stores (a cancel can finish an experiment). */
    webhookProducer: WebhookProducer;
    /** Pub/sub channel names under QUEUE_PREFIX (live events, cancel, key revocation). */
    channels: PubSubChannels;
    hub: EventHub;
    apiKeys: ApiKeyVerifier;
    models: ModelCache;
    /** Datasets of this install and their sizes (cached), for GET /datasets and the submit check. */
    datasets: DatasetCatalog;
    appMetrics: AppMetrics;
    /** Open SSE streams; each function ends one (used on shutdown). */
    sseStreams: Set<() => void>;
  }
  interface FastifyRequest {
    /** Set by the API-key hook on every /v1 route. */
    auth: AuthContext | null;
  }
  interface FastifyContextConfig {
    /** This route also accepts the key as `?access_token=` (EventSource cannot send headers). */
    allowQueryToken?: boolean;
  }
}
