import { createServer, type Server } from "node:http";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Prometheus metrics of one worker process (served on METRICS_PORT when set). */
export function createWorkerMetrics({ workerId, device }: { workerId: string; device: string }) {
  const registry = new Registry();
  registry.setDefaultLabels({ worker_id: workerId, device });
  collectDefaultMetrics({ register: registry, prefix: "actlab_worker_" });
  return {
    registry,
    runsStarted: new Counter({
      name: "actlab_worker_runs_started_total",
      help: "Runs this worker started training (resumes included)",
      labelNames: ["resumed"] as const,
      registers: [registry],
    }),
    runsFinished: new Counter({
      name: "actlab_worker_runs_finished_total",
      help: "Runs this worker stopped working on, by outcome",
      labelNames: ["outcome"] as const, // succeeded | failed | canceled | handed_back | error
      registers: [registry],
    }),
    epochs: new Counter({
      name: "actlab_worker_epochs_total",
      help: "Epochs trained and stored",
      registers: [registry],
    }),
    batches: new Counter({
      name: "actlab_worker_batches_total",
      help: "Training batches run",
      registers: [registry],
    }),
    epochSeconds: new Histogram({
      name: "actlab_worker_epoch_seconds",
      help: "Training time of one epoch",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: [registry],
    }),
    storeSeconds: new Histogram({
      name: "actlab_worker_epoch_store_seconds",
      help: "Time to store one epoch (metrics, progress, checkpoint, event)",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    busy: new Gauge({
      name: "actlab_worker_busy",
      help: "1 while this worker trains a run",
      registers: [registry],
    }),
    reconciled: new Counter({
      name: "actlab_worker_reconciler_actions_total",
      help: "Runs the reconciler enqueued, requeued, failed or canceled",
      labelNames: ["action"] as const,
      registers: [registry],
    }),
  };
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

export async function serveMetrics({
  registry,
  port,
  host,
}: {
  registry: Registry;
  port: number;
  host: string;
}): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === "/metrics") {
      registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { "content-type": registry.contentType });
          res.end(body);
        })
        .catch((err: Error) => {
          res.writeHead(500).end(err.message);
        });
    } else if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
