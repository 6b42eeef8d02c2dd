import { serialSuite } from "../support/vitest-serial.js";

// `npm run test:distributed`: actlab on hosts made here (network namespaces, a bridge, HAProxy,
// its own Postgres and Redis servers, a Redis Cluster), with partitions, a killed replica, a
// slow lossy network and a Redis failover. Needs root; not part of `npm test`. One file, its
// scenarios in order on one set of hosts, so the hosts are made once.
export default serialSuite({
  include: ["tests/distributed/**/*.distributed.ts"],
  testTimeout: 120_000,
  hookTimeout: 180_000,
  globalSetup: ["tests/distributed/global-setup.ts"],
});
