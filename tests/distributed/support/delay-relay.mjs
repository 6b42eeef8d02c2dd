// A TCP relay that delays every byte by a fixed time in each direction, run inside a host's
// namespace in front of a server (Postgres, Redis, an API), so connections between hosts see
// that latency. Hand-written because the kernel here has no sch_netem (the usual
// `tc qdisc add dev eth0 root netem delay 100ms`) and Toxiproxy is not packaged for Debian.
// Data keeps its order (one queue per direction, one constant delay). SIGUSR1 turns the delay
// on, SIGUSR2 off, so one relay serves the clean and the slow measurement.
//
//   node delay-relay.mjs <listen-host> <listen-port> <target-host> <target-port> <delay-ms>
import net from "node:net";

const [listenHost, listenPort, targetHost, targetPort, delayArg] = process.argv.slice(2);
const slowMs = Number(delayArg);
let delayMs = 0;
process.on("SIGUSR1", () => {
  delayMs = slowMs;
});
process.on("SIGUSR2", () => {
  delayMs = 0;
});

/** Forwards from → to, each chunk `delayMs` after it arrived, in order. */
function pipeDelayed(from, to) {
  const queue = [];
  let scheduled = false;
  const drain = () => {
    scheduled = false;
    const now = Date.now();
    while (queue.length && queue[0].at <= now) to.write(queue.shift().chunk);
    if (queue.length) {
      scheduled = true;
      setTimeout(drain, queue[0].at - now);
    } else if (from.readableEnded) to.end();
  };
  from.on("data", (chunk) => {
    if (delayMs === 0 && !queue.length) {
      to.write(chunk);
      return;
    }
    queue.push({ chunk, at: Date.now() + delayMs });
    if (!scheduled) {
      scheduled = true;
      setTimeout(drain, delayMs);
    }
  });
  from.on("end", () => {
    if (!queue.length) to.end();
  });
}

// While the server behind is down (connection refused), the relay stops listening, so clients
// are refused too, as by the dead host itself; it probes every 250 ms and listens again when the
// server is back. (A relay that accepted and then reset would hide the refusal from HAProxy,
// which redispatches only connections that failed to open.)
let listening = false;
function probeUntilUp() {
  const probe = net.connect(Number(targetPort), targetHost);
  probe.on("connect", () => {
    probe.destroy();
    listen();
  });
  probe.on("error", () => setTimeout(probeUntilUp, 250));
}
function upstreamRefused() {
  if (!listening) return;
  listening = false;
  server.close();
  setTimeout(probeUntilUp, 250);
}
function listen() {
  if (listening) return;
  listening = true;
  server.listen(Number(listenPort), listenHost, () => {
    process.stdout.write(`relay ${listenHost}:${listenPort} -> ${targetHost}:${targetPort} ready\n`);
  });
}

const server = net.createServer((client) => {
  const upstream = net.connect(Number(targetPort), targetHost);
  upstream.on("error", (err) => {
    if (err.code === "ECONNREFUSED") upstreamRefused();
  });
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  // A reset on one side resets the other; an orderly end travels (delayed) like data.
  const reset = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", reset);
  upstream.on("error", reset);
  pipeDelayed(client, upstream);
  pipeDelayed(upstream, client);
});
listen();
