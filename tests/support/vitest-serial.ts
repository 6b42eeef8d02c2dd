import { defineConfig } from "vitest/config";

/**
 * The config of a suite whose files run one at a time in one forked process (end-to-end,
 * reliability, distributed): they start real processes and load the machine, so running two at
 * once would make each other's timings. Workspace packages resolve to their TypeScript sources.
 */
export function serialSuite(test: {
  include: string[];
  testTimeout: number;
  hookTimeout: number;
  globalSetup?: string[];
  root?: string;
}) {
  const { root, ...rest } = test;
  return defineConfig({
    ...(root ? { root } : {}),
    resolve: { conditions: ["source"] },
    ssr: { resolve: { conditions: ["source"] } },
    test: { ...rest, pool: "forks", fileParallelism: false, maxWorkers: 1, sequence: { shuffle: false } },
  });
}
