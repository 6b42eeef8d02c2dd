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

const server = net.createServer((client) => {
  const upstream = net.connect(Number(targetPort), targetHost);
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
server.listen(Number(listenPort), listenHost, () => {
  process.stdout.write(`relay ${listenHost}:${listenPort} -> ${targetHost}:${targetPort} ready\n`);
});
