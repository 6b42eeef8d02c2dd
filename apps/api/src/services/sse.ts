import type { ServerResponse } from "node:http";
import type { TExperimentStatus } from "@actlab/contracts";
import { type Db, eventsSince, findExperimentStatus, type StoredEvent } from "@actlab/db";
import type { PubSubChannels } from "@actlab/queue";
import type { EventHub } from "./event-hub.js";

const TERMINAL: readonly TExperimentStatus[] = ["succeeded", "failed", "canceled", "partial"];

export function formatSse(event: StoredEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/** Last-Event-ID must be a stored event id (a positive integer); anything else replays from the start. */
export function parseLastEventId(raw: string | undefined): string | null {
  return raw && /^\d{1,18}$/.test(raw.trim()) ? raw.trim() : null;
}

export interface SseOptions {
  db: Db;
  hub: EventHub;
  /** This deployment's channels: the worker publishes on `channels.events(experimentId)`. */
  channels: PubSubChannels;
  experimentId: string;
  lastEventId: string | null;
  heartbeatMs: number;
  /** Safety net under pub/sub: re-read Postgres this often (and all the time while Redis is down). */
  pollMs?: number;
  /** Open streams, so a shutting-down server can end them instead of waiting. */
  open: Set<() => void>;
}

/**
 * Streams an experiment's events: first everything stored after Last-Event-ID, then live ones
 * from Redis, deduplicated by id, with heartbeats; ends after `experiment.finished`.
 * Subscribes before replaying, so an event published during the replay is not lost.
 */
export async function streamEvents(res: ServerResponse, opts: SseOptions): Promise<void> {
  const { db, hub, channels, experimentId, heartbeatMs, pollMs = 5_000, open } = opts;
  const sent = new Set<string>();
  let cursor = opts.lastEventId; // highest id read from Postgres so far
  let closed = false;
  let pending: Promise<void> = Promise.resolve();
  const timers: NodeJS.Timeout[] = [];

  const finish = () => {
    if (closed) return;
    closed = true;
    for (const t of timers) clearInterval(t);
    live.remove();
    open.delete(finish);
    if (!res.writableEnded) res.end();
  };
  open.add(finish);
  res.on("close", finish);

  const send = (event: StoredEvent) => {
    if (closed || sent.has(event.id)) return;
    if (opts.lastEventId && BigInt(event.id) <= BigInt(opts.lastEventId)) return;
    sent.add(event.id);
    res.write(formatSse(event));
    if (event.type === "experiment.finished") finish();
  };

  // Serialised so replayed and live events go out in one order.
  const enqueue = (task: () => Promise<void> | void) => {
    pending = pending.then(task).catch(() => {
      // A database blip during a poll: the next poll tries again.
    });
    return pending;
  };

  // A stored `experiment.finished` is sent only while it is still true: a continued experiment
  // (POST …/continue) has an old one followed by its new runs' events, or by none yet while its
  // status is queued again. So the last one read is held until a later event drops it or the
  // end of what is stored shows, with the experiment's status, that it still holds.
  let heldFinish: StoredEvent | null = null;
  /** A readStored is queued and has not started yet: its query will see every event stored so far. */
  let readQueued = false;
  const readStored = async () => {
    for (;;) {
      if (closed) return;
      const batch = await eventsSince(db, experimentId, cursor, 500);
      for (const e of batch) {
        if (e.type === "experiment.finished") {
          heldFinish = e;
          continue;
        }
        heldFinish = null;
        send(e);
      }
      if (batch.length) cursor = batch[batch.length - 1]!.id;
      if (batch.length < 500) break;
    }
    if (!heldFinish) return;
    const status = await findExperimentStatus(db, experimentId);
    if (status && TERMINAL.includes(status)) send(heldFinish);
    heldFinish = null;
  };

  const live = hub.listen(channels.events(experimentId), (message) => {
    let event: StoredEvent;
    try {
      event = JSON.parse(message) as StoredEvent;
    } catch {
      return;
    }
    if (typeof event?.id !== "string" || !/^\d+$/.test(event.id)) return;
    // Stored ones first: a live event may arrive before earlier ones whose publish was lost or
    // late (they would come with the next poll). Sent ahead of them, its id would become the
    // client's Last-Event-ID, and a reconnect then would skip them for good (tests/distributed
    // saw 107 go out before 93–104 while a replica was being killed). The event is stored
    // before it is published, so this read normally sends it too.
    // One read serves every live event that arrives before it starts (a burst of epochs costs one
    // query per stream, not one each); then the live one itself, which `send` skips if the read
    // already sent it, and which still goes out when Postgres is unreachable (the next poll fills in).
    if (!readQueued) {
      readQueued = true;
      void enqueue(async () => {
        readQueued = false;
        await readStored().catch(() => {});
      });
    }
    void enqueue(() => send(event));
  });

  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  // Tells EventSource how soon to reconnect; also flushes headers for curl -N.
  res.write("retry: 3000\n\n");

  const subscribed = await live.ready;
  await enqueue(readStored);
  if (closed) return;

  const status = await findExperimentStatus(db, experimentId);
  if (!status) return finish(); // deleted meanwhile
  if (TERMINAL.includes(status)) {
    // Finished but its final event not stored yet (the worker stores it right after): look once more.
    await new Promise((r) => setTimeout(r, 300));
    await enqueue(readStored);
    return finish();
  }

  timers.push(setInterval(() => !closed && res.write(": heartbeat\n\n"), heartbeatMs));
  timers.push(setInterval(() => void enqueue(readStored), subscribed ? pollMs : Math.min(pollMs, 1_000)));
}
