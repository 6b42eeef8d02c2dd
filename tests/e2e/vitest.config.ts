import { defineConfig } from "vitest/config";

// The browser end-to-end test: it builds the dashboard, starts the real API and a worker
// (scripts/start.ts) against a database of its own, and drives Debian's chromium.
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
