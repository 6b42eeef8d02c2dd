import { defineConfig } from "vitest/config";

// End-to-end tests against the real service (scripts/start.ts: the API and a worker, with a
// database of its own): the dashboard driven in Debian's chromium, and the README's curl session.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: ["tests/e2e/**/*.test.ts"],
    testTimeout: 360_000,
    hookTimeout: 360_000,
    pool: "forks",
    fileParallelism: false,
    maxWorkers: 1,
  },
});
