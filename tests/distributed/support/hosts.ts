import { execFileSync } from "node:child_process";

/*
 * Hosts made on this machine: one Linux network namespace per host, each joined to one bridge by
 * a veth pair, with an address in a private /24 used only here (the bridge itself, in the test's
 * own namespace, is .1 so the test can reach every host as a client would). Faults are kernel
 * rules inside a host's namespace: a partition drops every packet arriving from a peer on both
 * sides (iptables INPUT DROP, so neither side is told: the connection just goes silent, as
 * across a real network), loss drops a random share of every host's incoming packets
 * (iptables statistic). Latency is added by delay relays (delay-relay.mjs), because this
 * machine's kernel has no sch_netem: `tc qdisc add … netem` answers "Specified qdisc kind is unknown".
 */

export const SUBNET = "10.77.0";
const TAG = "altest"; // every namespace, bridge and veth made here starts with it (teardown finds leftovers)

export interface Host {
  name: string;
  ns: string;
  ip: string;
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Runs a command inside a host's namespace (for iptables and other one-shot commands). */
export function inHost(host: Host, cmd: string, args: string[]): string {
  return sh("ip", ["netns", "exec", host.ns, cmd, ...args]);
}

/** Deletes every namespace and link this module ever made, also from a run that crashed. */
export function removeAllHosts(): void {
  for (const line of sh("ip", ["netns", "list"]).split("\n")) {
    const ns = line.split(" ")[0];
    if (ns?.startsWith(`${TAG}-`)) {
      try {
        sh("ip", ["netns", "del", ns]); // deleting a namespace deletes its veth ends (and so their peers)
      } catch {}
    }
  }
  for (const line of sh("ip", ["-o", "link", "show"]).split("\n")) {
    const name = /^\d+: ([^:@]+)/.exec(line)?.[1];
    if (name?.startsWith(TAG)) {
      try {
        sh("ip", ["link", "del", name]);
      } catch {}
    }
  }
}

export interface Network {
  hosts: Record<string, Host>;
  /** The test's own address on the bridge. */
  gatewayIp: string;
  /** Drops every packet between `a` and `b`, both ways, until heal(). */
  partition(a: Host, b: Host): void;
  heal(a: Host, b: Host): void;
  /** Drops this share of the packets arriving at every host (0 removes the rule). */
  setLoss(probability: number): void;
  teardown(): void;
}

/** Makes the bridge and one namespace per name (addresses .10, .11, … in order). */
export function createNetwork(names: readonly string[]): Network {
  removeAllHosts();
  const bridge = `${TAG}-br`;
  const gatewayIp = `${SUBNET}.1`;
  sh("ip", ["link", "add", bridge, "type", "bridge"]);
  sh("ip", ["addr", "add", `${gatewayIp}/24`, "dev", bridge]);
  sh("ip", ["link", "set", bridge, "up"]);
  const hosts: Record<string, Host> = {};
  names.forEach((name, i) => {
    const ns = `${TAG}-${name}`;
    const ip = `${SUBNET}.${10 + i}`;
    const outside = `${TAG}${i}o`;
    sh("ip", ["netns", "add", ns]);
    sh("ip", ["link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    sh("ip", ["link", "set", outside, "master", bridge]);
    sh("ip", ["link", "set", outside, "up"]);
    sh("ip", ["netns", "exec", ns, "ip", "addr", "add", `${ip}/24`, "dev", "eth0"]);
    sh("ip", ["netns", "exec", ns, "ip", "link", "set", "eth0", "up"]);
    sh("ip", ["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
    hosts[name] = { name, ns, ip };
  });

  const dropFrom = (host: Host, peer: Host, op: "-I" | "-D") =>
    inHost(host, "iptables", [op, "INPUT", "-s", peer.ip, "-j", "DROP"]);
  let loss = 0;
  const lossRule = (p: number) => [
    "INPUT",
    "-m",
    "statistic",
    "--mode",
    "random",
    "--probability",
    String(p),
    "-j",
    "DROP",
  ];

  return {
    hosts,
    gatewayIp,
    partition(a, b) {
      dropFrom(a, b, "-I");
      dropFrom(b, a, "-I");
    },
    heal(a, b) {
      dropFrom(a, b, "-D");
      dropFrom(b, a, "-D");
    },
    setLoss(probability) {
      for (const host of Object.values(hosts)) {
        if (loss > 0) inHost(host, "iptables", ["-D", ...lossRule(loss)]);
        if (probability > 0) inHost(host, "iptables", ["-A", ...lossRule(probability)]);
      }
      loss = probability;
    },
    teardown: removeAllHosts,
  };
}

/** Why this machine cannot make hosts (not root, a tool missing), or null when it can. */
export function cannotMakeHosts(): string | null {
  if (process.getuid?.() !== 0) return "needs root (network namespaces, veth, iptables)";
  for (const tool of ["ip", "iptables", "haproxy", "redis-server", "redis-cli"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    } catch {
      return `needs ${tool} (apt-get install iproute2 iptables haproxy redis-server)`;
    }
  }
  return null;
}
