import { type Logger, pino } from "pino";

/** JSON lines on stdout; every line carries the worker id and device, run lines add runId/experimentId/epoch. */
export function createLogger({
  level,
  workerId,
  device,
}: {
  level: string;
  workerId: string;
  device: string;
}): Logger {
  return pino({
    level,
    base: { service: "worker", workerId, device, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
