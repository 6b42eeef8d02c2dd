import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com) through its reference library,
 * so receivers verify with any Standard Webhooks library: the secret is `whsec_` + base64 of
 * random bytes, and each request carries `webhook-id`, `webhook-timestamp` (seconds) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
 */

/** A new signing secret: 24 random bytes (the spec asks for 24–64), `whsec_`-prefixed base64. */
export function createSecret(): string {
  return `whsec_${randomBytes(24).toString("base64")}`;
}

export interface SignedHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/**
 * The headers of one attempt. `id` stays the same across retries (receivers deduplicate on it);
 * the timestamp is the attempt's, so receivers that refuse old timestamps accept a late retry.
 */
export function signedHeaders({
  secret,
  id,
  at,
  body,
}: {
  secret: string;
  id: string;
  at: Date;
  body: string;
}): SignedHeaders {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign(id, at, body),
  };
}
