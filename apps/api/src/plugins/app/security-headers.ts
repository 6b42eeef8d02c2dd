import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import helmet from "helmet";

/** The options actlab gives helmet (the dashboard's pages run @fastify/helmet with them too). */
export const HELMET_OPTIONS = {
  contentSecurityPolicy: { directives: { "img-src": ["'self'", "data:", "blob:"] } },
};

/** The headers helmet's middleware sets with `options`, read by running it once on a stand-in response. */
function headersOf(options: Parameters<typeof helmet>[0]): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: unknown) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, () => {});
  return Object.freeze(headers);
}

/**
 * The headers @fastify/helmet sends with actlab's options, computed once at start from helmet
 * itself. Every response gets them from one cheap hook (and the answers Fastify gives before
 * routing, see problems.ts); helmet runs as a plugin only where HTML is served (the dashboard),
 * because running its middleware chain on every JSON response cost ~30 % of a small route's CPU
 * (measured: GET /v1/presets 0.09–0.11 → 0.06–0.07 ms per request without it).
 */
export const SECURITY_HEADERS = headersOf(HELMET_OPTIONS);

async function securityHeaders(app: FastifyInstance) {
  app.addHook("onRequest", (_request, reply, done) => {
    reply.headers(SECURITY_HEADERS);
    done();
  });
}

export default fp(securityHeaders, { name: "actlab-security-headers" });
