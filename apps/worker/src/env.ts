import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { ZBackendName } from "@actlab/contracts";
import { EnvError, parseEnvWith, ZBaseEnv } from "@actlab/contracts/env";
import { ZAllowedHosts } from "@actlab/webhooks";
import { z } from "zod";

export { EnvError };

const { DATABASE_URL, REDIS_URL, QUEUE_PREFIX, LOG_LEVEL } = ZBaseEnv.shape;

const positiveInt = z.coerce.number().int().positive();

/**
 * Everything the worker reads from its environment (the shared variables of
 * `@actlab/contracts/env` and its own) and command line, parsed once at start (main.ts).
 * Nothing else in the worker reads process.env.
 *
 * Stalled-job timing (why these defaults): a SIGKILLed worker stops renewing its job lock; the
 * lock expires after WORKER_LOCK_DURATION_MS, and BullMQ's stalled checker (run by every other
 * worker every WORKER_STALLED_INTERVAL_MS) needs one check to mark the job and the next to move
 * it back to wait. So a killed run is picked up again at most ≈ lock + 2 × interval after the
 * kill: 20 s + 2 × 10 s = 40 s with the defaults, inside the 60 s the service promises. Training
 * runs in a worker thread, so the lock is renewed on time however long an epoch takes and a low
 * lock duration causes no false stalls.
 */
export const ZEnv = z
  .object({
    WORKER_DEVICE: z.enum(["cpu", "gpu"]).default("cpu"),
    DATABASE_URL,
    REDIS_URL,
    QUEUE_PREFIX,
    /** Forces one backend (`native` is the OpenBLAS engine) instead of the best available one. */
    ACTLAB_BACKEND: ZBackendName.optional(),
    /** Where the native engine's addon is (default: the one npm built in packages/native). */
    ACTLAB_NATIVE_ADDON: z.string().min(1).optional(),
    /** A running run's weights and optimizer state are checkpointed this often (and at the end, on stop). */
    CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(0).default(5_000),
    /** At most one live epoch event (SSE, job progress) per run this often; Postgres keeps every epoch. */
    LIVE_EVENT_INTERVAL_MS: z.coerce.number().int().min(0).default(250),
    /** Directory with the MNIST IDX files for the `mnist-full` dataset. */
    DATA_DIR: z.string().min(1).optional(),
    /** Directory with the Fashion-MNIST IDX files (default: Debian's /usr/share/datasets/fashion-mnist). */
    FASHION_MNIST_DIR: z.string().min(1).optional(),
    LOG_LEVEL,
    /** When set, Prometheus metrics are served on this port at /metrics. */
    METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
    METRICS_HOST: z.string().min(1).default("0.0.0.0"),
    /** A label for this worker (e.g. `worker-2` from npm start); prefixes the generated WORKER_ID. */
    WORKER_NAME: z.string().min(1).optional(),
    /**
     * Identifies this process incarnation in runs.workerId and logs; default name-or-host:pid:random.
     * Keep it unique per process start: a restarted process must not look like the one that died.
     */
    WORKER_ID: z.string().min(1).optional(),
    WORKER_LOCK_DURATION_MS: positiveInt.min(500).default(20_000),
    WORKER_STALLED_INTERVAL_MS: positiveInt.min(200).default(10_000),
    /** How often one job may be recovered from a dead worker before BullMQ fails it. */
    WORKER_MAX_STALLED_COUNT: z.coerce.number().int().min(1).default(3),
    /** How often a running run's cancel flag is read from Postgres (in case the pub/sub message was missed). */
    CANCEL_POLL_MS: positiveInt.default(2_000),
    /** How often a running run's updatedAt is touched, so the reconciler knows it is alive. */
    HEARTBEAT_MS: positiveInt.default(15_000),
    RECONCILE_INTERVAL_MS: positiveInt.default(30_000),
    /** A `running` run with no live job, untouched this long, is requeued by the reconciler. */
    RECONCILE_STALE_MS: positiveInt.default(120_000),
    /** Queued runs younger than this are left to the API's own enqueue. */
    RECONCILE_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
    /** A run started this many times without finishing is failed instead of requeued again. */
    MAX_RUN_ATTEMPTS: positiveInt.default(10),
    /** SIGTERM: after this long without the current batch finishing, exit anyway (the run resumes elsewhere). */
    SHUTDOWN_TIMEOUT_MS: positiveInt.default(8_000),
    DB_POOL_SIZE: positiveInt.max(50).default(4),
    /**
     * A Postgres connection attempt or query that takes longer fails (and is retried), and
     * Postgres rolls back a transaction of this worker left open this long. Without them a worker
     * cut off from Postgres by a partition waits on a silent socket forever while it keeps
     * renewing its job lock in Redis, and its open transaction holds the run's row, so the run
     * stops everywhere; with them, the epoch write gives up after its retries, the job goes back
     * to BullMQ and another worker resumes the run (tests/distributed).
     */
    DB_TIMEOUT_MS: positiveInt.min(500).default(15_000),
    /**
     * The training thread (wasm/cpu backends) is replaced after this many runs: TensorFlow.js
     * keeps every layer name it made (~1.3 KB per run), so its heap would otherwise only grow.
     */
    TRAINER_REPLACE_AFTER_RUNS: positiveInt.default(1_000),
    /**
     * The commit recorded in each run's provenance where the checkout has no .git (an image:
     * `docker build --build-arg ACTLAB_COMMIT=$(git rev-parse HEAD)`); else git is asked.
     */
    ACTLAB_COMMIT: z
      .string()
      .regex(/^[0-9a-f]{7,64}$/i, "must be a git commit hash")
      .optional(),
    /** Webhook targets allowed although private, loopback or link-local: host names, addresses or CIDRs, comma-separated. */
    WEBHOOK_ALLOWED_HOSTS: ZAllowedHosts,
    /** One delivery attempt may take this long (connect, TLS, answer) before it counts as failed. */
    WEBHOOK_TIMEOUT_MS: positiveInt.max(60_000).default(10_000),
    /** Delay before the first retry of a failed delivery; each next one doubles it (8 attempts). */
    WEBHOOK_RETRY_BASE_MS: positiveInt.default(5_000),
    /** Deliveries in flight at once per worker process (they wait on the network, not the CPU). */
    WEBHOOK_CONCURRENCY: positiveInt.max(100).default(4),
  })
  .superRefine((env, ctx) => {
    const worstRestart = env.WORKER_LOCK_DURATION_MS + 2 * env.WORKER_STALLED_INTERVAL_MS;
    if (worstRestart > 60_000) {
      ctx.addIssue({
        code: "custom",
        path: ["WORKER_LOCK_DURATION_MS"],
        message: `lock duration + 2 × stalled interval is ${worstRestart} ms: a killed worker's run could wait longer than 60 s to restart`,
      });
    }
    if (env.HEARTBEAT_MS * 3 > env.RECONCILE_STALE_MS) {
      ctx.addIssue({
        code: "custom",
        path: ["RECONCILE_STALE_MS"],
        message:
          "must be at least 3 × HEARTBEAT_MS, or the reconciler would requeue runs that are still training",
      });
    }
  });

export type TEnv = z.infer<typeof ZEnv> & { WORKER_ID: string };

/**
 * Parses the command line (`--device cpu|gpu`, which wins over WORKER_DEVICE) and the
 * environment; throws EnvError whose message names each bad variable.
 */
export function parseEnv(env: Record<string, string | undefined>, argv: readonly string[] = []): TEnv {
  let device: string | undefined;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { device: { type: "string" } },
      strict: true,
      allowPositionals: false,
    });
    device = values.device;
  } catch (err) {
    throw new EnvError(`invalid arguments: ${(err as Error).message} (usage: main.js [--device cpu|gpu])`);
  }
  const parsed = parseEnvWith(ZEnv, device === undefined ? env : { ...env, WORKER_DEVICE: device }, {
    label: (name) => (name === "WORKER_DEVICE" && device !== undefined ? "--device" : name),
  });
  const workerId =
    parsed.WORKER_ID ??
    `${parsed.WORKER_NAME ?? hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  return { ...parsed, WORKER_ID: workerId };
}
