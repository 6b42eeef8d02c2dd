import type { FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../../errors.js";

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
 */
export async function requireApiKey(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const key = presentedKey(request);
  const challenge = { "www-authenticate": 'Bearer realm="actlab"' };
  if (!key) {
    throw new AppError("unauthorized", "send `Authorization: Bearer <API key>`", { headers: challenge });
  }
  const auth = await request.server.apiKeys.verify(key);
  if (!auth) {
    throw new AppError("unauthorized", "this API key is unknown or revoked", {
      headers: { "www-authenticate": 'Bearer realm="actlab", error="invalid_token"' },
    });
  }
  request.auth = auth;
  reply.header("cache-control", "private, no-store");
}
