/**
 * Worker process entry: `node apps/worker/dist/main.js [--device cpu|gpu]` (or from source with
 * `node --conditions=source --import tsx apps/worker/src/main.ts`). Exit codes: 0 clean stop,
 * 1 crash or shutdown timeout, 78 configuration error (bad env, GPU binding missing).
 */

import { EnvError, parseEnv } from "./env.js";
import { createLogger } from "./logger.js";
import { startWorkerApp, type WorkerApp } from "./worker-app.js";

const EXIT_CONFIG = 78; // EX_CONFIG from sysexits.h: do not restart in a loop, fix the config.

let env: ReturnType<typeof parseEnv>;
try {
  env = parseEnv(process.env, process.argv.slice(2));
} catch (err) {
  if (err instanceof EnvError) {
    process.stderr.write(`actlab worker: ${err.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  throw err;
}
const logger = createLogger({ level: env.LOG_LEVEL, workerId: env.WORKER_ID, device: env.WORKER_DEVICE });

let app: WorkerApp | undefined;
let exitCode = 0;
let stopping = false;

function stop(reason: string): void {
  if (stopping) return;
  stopping = true;
  logger.info({ reason }, "stopping: finishing the current batch and handing the run back");
  const timer = setTimeout(() => {
    logger.error(
      { timeoutMs: env.SHUTDOWN_TIMEOUT_MS },
      "shutdown timed out; exiting (the run resumes elsewhere)",
    );
    process.exit(1);
  }, env.SHUTDOWN_TIMEOUT_MS);
  timer.unref();
  if (!app) process.exit(exitCode); // still starting: nothing to hand back
  app
    .close()
    .then(() => {
      logger.info("stopped");
      process.exit(exitCode);
    })
    .catch((err: Error) => {
      logger.error({ err }, "error while stopping");
      process.exit(1);
    });
}

process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled rejection"));

try {
  app = await startWorkerApp({
    env,
    logger,
    onFatal: (err) => {
      logger.error({ err: err.message }, "training thread died; stopping this process so it is restarted");
      exitCode = 1;
      stop("training thread died");
    },
  });
} catch (err) {
  const e = err as Error & { code?: string };
  if (e.code === "GPU_UNAVAILABLE" || e.code === "BACKEND_UNAVAILABLE") {
    logger.fatal({ code: e.code }, `refusing to start: ${e.message}`);
    process.stderr.write(`actlab worker: refusing to start: ${e.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  logger.fatal({ err: e }, "worker failed to start");
  process.exit(1);
}
