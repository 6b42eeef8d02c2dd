import fastifyRateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { AppError } from "../../errors.js";
import { AuthFailureLimiter } from "../../services/auth-failures.js";
import { batchedRedisStore } from "../../services/rate-limit-store.js";

function presentedKey(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m ? m[1]! : null;
  }
  if (request.routeOptions.config.allowQueryToken) {
    const token = (request.query as Record<string, unknown> | undefined)?.access_token;
    if (typeof token === "string") return token;
  }
  return null;
}

/**
 * onRequest hook of every /v1 route: the caller's tenant comes from its API key, so every
 * query below is scoped by `request.auth.tenantId`.
 *
 * A key this process has already seen valid is verified from memory and never meets the
 * failed-attempt limit, so a user keeps working while someone behind the same address (an office
 * NAT, a shared proxy) floods us with made-up keys. Every other key costs a Postgres lookup, and
 * those are what the limit guards: counted per client address before the lookup, uncounted if the
 * key was valid, refused with 429 once the client has `AUTH_FAILURE_LIMIT` failures in its window.
 * The price: a valid key this process has not seen yet (a new key, or a freshly started process),
 * sent from an address that is over the limit, waits for that window to end too; we cannot tell
 * it from a made-up one without the very lookup the limit exists to avoid. Requests without any
 * key are not counted: they cost no lookup.
 */
function requireApiKey(failures: AuthFailureLimiter) {
  return async function requireApiKey(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const key = presentedKey(request);
    const challenge = { "www-authenticate": 'Bearer realm="actlab"' };
    if (!key) {
      throw new AppError("unauthorized", "send `Authorization: Bearer <API key>`", { headers: challenge });
    }
    const { apiKeys } = request.server;
    let auth: Awaited<ReturnType<typeof apiKeys.verify>>;
    if (apiKeys.knownValid(key)) {
      auth = await apiKeys.verify(key);
    } else {
      const gate = await failures.take(request.ip);
      if (gate.blocked) {
        if (gate.firstBlock)
          request.log.warn({ client: request.ip }, "too many failed API-key attempts; refusing unknown keys");
        const seconds = Math.max(1, Math.ceil(gate.retryAfterMs / 1000));
        throw new AppError(
          "tooManyAuthFailures",
          `too many requests with unknown or revoked API keys from this address; retry in ${seconds} s`,
          { headers: { "retry-after": String(seconds) } },
        );
      }
      auth = await apiKeys.verify(key);
      if (auth && gate.counted) failures.giveBack(request.ip);
    }
    if (!auth) {
      throw new AppError("unauthorized", "this API key is unknown or revoked", {
        headers: { "www-authenticate": 'Bearer realm="actlab", error="invalid_token"' },
      });
    }
    request.auth = auth;
    reply.header("cache-control", "private, no-store");
  };
}

/**
 * For the routes registered after it in the same scope (everything under /v1): the API key first
 * (with the per-client limit on failed attempts), then the per-key rate limit, both counted in
 * Redis so every API process shares them.
 */
async function auth(app: FastifyInstance) {
  const failures = new AuthFailureLimiter(app.redis, {
    prefix: app.config.QUEUE_PREFIX,
    limit: app.config.AUTH_FAILURE_LIMIT,
    windowMs: app.config.AUTH_FAILURE_WINDOW_MS,
  });
  app.addHook("onRequest", requireApiKey(failures));
  await app.register(fastifyRateLimit, {
    max: app.config.RATE_LIMIT_MAX,
    timeWindow: app.config.RATE_LIMIT_WINDOW_MS,
    store: batchedRedisStore({ redis: app.redis, prefix: `${app.config.QUEUE_PREFIX}:ratelimit:` }),
    // Redis down: serve rather than fail every request (the queue path answers 503/202 by itself).
    skipOnError: true,
    keyGenerator: (request) => request.auth?.keyId ?? request.ip,
  });
}

export default fp(auth, { name: "actlab-auth", dependencies: ["actlab-infra"] });
