import { spawnSync } from "node:child_process";
import { cannotMakeHosts, removeAllHosts } from "./support/hosts.js";

/**
 * Without root (or without iproute2, iptables, haproxy, redis) the hosts cannot be made: say so
 * and stop, failing only under CI, where the suite must run. Otherwise build the apps as
 * `npm start` does, since the hosts run their dist/ files.
 */
export default function setup(): () => void {
  const why = cannotMakeHosts();
  if (why) {
    process.stdout.write(`\n[distributed] skipped: this suite ${why}\n`);
    process.exit(process.env.CI ? 1 : 0);
  }
  const r = spawnSync("npx", ["tsc", "-b"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`npx tsc -b failed:\n${r.stdout.slice(0, 2000)}`);
  return () => removeAllHosts();
}
