import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// `npm run test:reliability`: scenarios that attack the running system (real API + worker
// processes from the build, the machine's Postgres and Redis). They restart shared services and
// load the machine, so files run one at a time. The worker engineer's *.reliability.ts files run
// here too. SOAK_MINUTES=n adds the soak scenario. RELIABILITY_ONLY=crash,fuzz runs a subset.
const only = process.env.RELIABILITY_ONLY?.split(",").filter(Boolean);
const mine = ["crash", "dependencies", "fuzz", "security", "load"].map(
  (s) => `tests/reliability/scenarios/${s}.reliability.ts`,
);
const worker = ["apps/worker/src/**/*.reliability.ts"];
const soak = process.env.SOAK_MINUTES ? ["tests/reliability/scenarios/soak.reliability.ts"] : [];

export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: only
      ? only.map((s) => (s === "worker" ? worker[0]! : `tests/reliability/scenarios/${s}.reliability.ts`))
      : [...mine, ...worker, ...soak],
    testTimeout: 600_000,
    hookTimeout: 180_000,
    pool: "forks",
    fileParallelism: false,
    maxWorkers: 1,
    sequence: { shuffle: false },
    globalSetup: ["tests/global-setup.ts", "tests/reliability/global-setup.ts"],
  },
});
