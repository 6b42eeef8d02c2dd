import { startTestApi, type TestApi } from "../../apps/api/src/__tests__/helpers.js";
import { spawnWorker, type WorkerProcess } from "../../apps/worker/src/__tests__/helpers.js";
import { TEST_REDIS_URL } from "../support/index.js";

export interface ApiWithWorker {
  api: TestApi;
  worker: WorkerProcess;
  /** Stops the worker (SIGTERM, waited for), then the API, its database and its Redis keys. */
  close(): Promise<void>;
}

/** A test API (its own database and queue prefix) and one real worker process training its runs on wasm. */
export async function startApiWithWorker(label: string): Promise<ApiWithWorker> {
  const api = await startTestApi(label);
  const worker = spawnWorker({
    env: {
      DATABASE_URL: api.database.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: api.prefix,
      ACTLAB_BACKEND: "wasm",
    },
  });
  await worker.waitForLog((l) => l.msg === "worker started");
  return {
    api,
    worker,
    async close() {
      worker.kill("SIGTERM");
      await worker.exited;
      await api.close();
    },
  };
}
