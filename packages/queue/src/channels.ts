/**
 * The Redis pub/sub channels of one deployment. Pub/sub has no key space, so without a prefix
 * two deployments (or test runs) sharing one Redis would hear each other's live events, cancels
 * and key revocations. Every channel therefore starts with QUEUE_PREFIX, the same setting that
 * keeps their BullMQ keys apart; API, worker and the `apikey` CLI all name channels through
 * here, so they agree as long as they are given the same QUEUE_PREFIX.
 */
export interface PubSubChannels {
  readonly prefix: string;
  /** The API tells workers to stop runs they hold: `{ "runIds": [...] }`. */
  readonly cancel: string;
  /** `apikey revoke` tells every API process to drop a cached key: the key's 12-character prefix. */
  readonly apiKeyRevoked: string;
  /** One experiment's live events (LiveEvent JSON). */
  events(experimentId: string): string;
}

export function pubsubChannels(prefix: string): PubSubChannels {
  if (!prefix) throw new Error("pub/sub channels need a non-empty QUEUE_PREFIX");
  return {
    prefix,
    cancel: `${prefix}:cancel`,
    apiKeyRevoked: `${prefix}:apikeys:revoked`,
    events: (experimentId) => `${prefix}:events:${experimentId}`,
  };
}
