import { fileURLToPath } from "node:url";
import { serialSuite } from "../support/vitest-serial.js";

// `npm run test:reliability`: scenarios that attack the running system (real API + worker
// processes, the machine's Postgres and Redis). They restart shared services and load the
// machine, so files run one at a time, and none is part of `npm test`. SOAK_MINUTES=n adds the
// soak scenario. RELIABILITY_ONLY=crash,redis-restart runs a subset (names of files in scenarios/).
const SCENARIOS = [
  "crash",
  "dependencies",
  "fuzz",
  "security",
  "load",
  "redis-restart",
  "kill-default-timings",
];
const only = process.env.RELIABILITY_ONLY?.split(",").filter(Boolean);
const scenario = (name: string) => `tests/reliability/scenarios/${name}.reliability.ts`;
const soak = process.env.SOAK_MINUTES ? ["soak"] : [];

export default serialSuite({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  include: (only ?? [...SCENARIOS, ...soak]).map(scenario),
  testTimeout: 600_000,
  hookTimeout: 180_000,
  globalSetup: ["tests/global-setup.ts", "tests/reliability/global-setup.ts"],
});
