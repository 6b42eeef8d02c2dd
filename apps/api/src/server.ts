import { buildApp } from "./app.js";
import { EnvError, parseEnv, type TEnv } from "./env.js";
import { apiLoggerOptions } from "./logger.js";

/** Starts the API: validated env, JSON logs, timeouts, graceful close on SIGTERM/SIGINT. */
async function main() {
  let env: TEnv;
  try {
    env = parseEnv(process.env);
  } catch (err) {
    if (err instanceof EnvError) {
      process.stderr.write(`actlab api: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }

  const app = await buildApp({
    env,
    logger: apiLoggerOptions(env.LOG_LEVEL),
    server: {
      connectionTimeout: 0,
      keepAliveTimeout: 72_000,
      requestTimeout: 30_000,
      // On close, idle keep-alive sockets go at once; SSE streams are ended by the app itself.
      forceCloseConnections: "idle",
      return503OnClosing: true,
    },
  });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      app.log.error("graceful close took over 10 s; exiting");
      process.exit(1);
    }, 10_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err) => {
        app.log.error({ err }, "error while closing");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));

  try {
    await app.listen({ port: env.PORT, host: env.HOST });
  } catch (err) {
    app.log.error({ err }, "could not start");
    process.exit(1);
  }
}

await main();
