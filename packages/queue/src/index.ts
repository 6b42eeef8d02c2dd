export { type PubSubChannels, pubsubChannels } from "./channels.js";
export {
  checkEvictionPolicy,
  createRedis,
  isClusterUrl,
  parseClusterUrl,
  type RedisConnection,
  subscribeWhenReady,
  whenReady,
} from "./connection.js";
export { type LiveEvent, publishCancel, publishEvent, publishKeyRevoked } from "./events.js";
export { TRAINING_JOB_NAME, TRAINING_JOB_OPTIONS, type TTrainingJob, ZTrainingJob } from "./job.js";
export {
  DEFAULT_PREFIX,
  devicesOfQueue,
  queueForDevice,
  TRAINING_GPU_QUEUE,
  TRAINING_QUEUE,
} from "./names.js";
export { createTrainingProducer, type RunToEnqueue, type TrainingProducer } from "./producer.js";
export { rejectAfter, resolveWithin, TimeoutError } from "./timeout.js";
export {
  createWebhookProducer,
  type TWebhookJob,
  WEBHOOK_BACKOFF,
  WEBHOOK_JOB_NAME,
  WEBHOOK_JOB_OPTIONS,
  WEBHOOK_QUEUE,
  type WebhookProducer,
  ZWebhookJob,
} from "./webhook-job.js";
