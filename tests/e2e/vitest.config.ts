import { serialSuite } from "../support/vitest-serial.js";

// End-to-end tests against the real service (scripts/start.ts: the API and a worker, with a
// database of its own): the dashboard driven in Debian's chromium, and the README's curl session.
export default serialSuite({
  include: ["tests/e2e/**/*.test.ts"],
  testTimeout: 360_000,
  hookTimeout: 360_000,
});
