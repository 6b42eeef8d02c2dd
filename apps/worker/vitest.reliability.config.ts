import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Tests that disturb shared services (they restart the machine's Redis), so they run alone and
// one file at a time: `npx vitest run --config apps/worker/vitest.reliability.config.ts`.
// They are not part of `npm test`, whose files run in parallel with other tests using Redis.
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: ["apps/worker/src/**/*.reliability.ts"],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: false,
    maxWorkers: 1,
    globalSetup: ["tests/global-setup.ts"],
  },
});
