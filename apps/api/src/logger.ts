import type { FastifyLoggerOptions, FastifyServerOptions } from "fastify";

type LoggerConfig = Exclude<FastifyServerOptions["logger"], boolean | undefined>;

/**
 * The API's log options: secrets never reach a log line. The Authorization and Idempotency-Key
 * headers are redacted, and request URLs lose their query string (`?access_token=` on the SSE
 * route is a key). The server and the security tests both use this, so the tests check what runs.
 */
export function apiLoggerOptions(level: string, stream?: FastifyLoggerOptions["stream"]): LoggerConfig {
  return {
    level,
    ...(stream ? { stream } : {}),
    redact: ["req.headers.authorization", 'req.headers["idempotency-key"]'],
    serializers: {
      req: (req: { method: string; url: string; id: string }) => ({
        method: req.method,
        url: req.url.split("?")[0],
        id: req.id,
      }),
    },
  };
}
