import { get } from "node:http";
import type { AddressInfo } from "node:net";
import type { TExperimentEvent } from "@actlab/contracts";
import { recordEvent } from "@actlab/db";
import { publishEvent, pubsubChannels } from "@actlab/queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, request, SMALL_SPEC, startTestApi, type TestApi } from "../../__tests__/helpers.js";

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi("sse", { SSE_HEARTBEAT_MS: "40" });
});
afterAll(async () => t?.close());

async function newExperiment(): Promise<{ id: string; runId: string }> {
  const res = await request(t, "POST", "/v1/experiments", { payload: SMALL_SPEC });
  return { id: res.json().id, runId: res.json().runs[0].id };
}

const epochEvent = (experimentId: string, runId: string, epoch: number): TExperimentEvent => ({
  type: "run.epoch",
  data: {
    experimentId,
    runId,
    epochs: 2,
    metrics: {
      epoch,
      trainLoss: 1,
      trainAccuracy: 0.5,
      testLoss: 1,
      testAccuracy: 0.5,
      gradNorms: [0.1, 1],
      deadFraction: [0],
      saturatedFraction: [0],
      preluAlphaMean: null,
      seconds: 0.1,
    },
  },
});

/** Records and publishes, exactly as the worker does. */
async function emit(experimentId: string, event: TExperimentEvent) {
  const stored = await recordEvent(t.database.db, experimentId, event);
  await publishEvent(t.app.redis, t.app.channels, experimentId, stored);
  return stored;
}

interface Parsed {
  id: string;
  event: string;
  data: unknown;
}
function parseSse(body: string): Parsed[] {
  return body
    .split("\n\n")
    .map((block) => block.split("\n").filter((l) => l && !l.startsWith(":")))
    .filter((lines) => lines.some((l) => l.startsWith("event:")))
    .map((lines) => {
      const field = (name: string) => lines.find((l) => l.startsWith(`${name}: `))!.slice(name.length + 2);
      return { id: field("id"), event: field("event"), data: JSON.parse(field("data")) };
    });
}

describe("GET /v1/experiments/:id/events", () => {
  it("replays stored events, resumes after Last-Event-ID, and ends after experiment.finished", async () => {
    const { id, runId } = await newExperiment();
    const started = await recordEvent(t.database.db, id, {
      type: "run.started",
      data: {
        experimentId: id,
        runId,
        variant: { activation: "relu" },
        repeat: 0,
        attempt: 1,
        backend: "cpu",
        device: "cpu",
        resumedFromEpoch: 0,
      },
    });
    const e1 = await recordEvent(t.database.db, id, epochEvent(id, runId, 1));
    // As settleExperiment does: the status is stored first, then its event.
    await t.database.db.experiment.update({
      where: { id },
      data: { status: "succeeded", finishedAt: new Date() },
    });
    const fin = await recordEvent(t.database.db, id, {
      type: "experiment.finished",
      data: { experimentId: id, status: "succeeded" },
    });

    const res = await request(t, "GET", `/v1/experiments/${id}/events`);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(res.headers["cache-control"]).toMatch(/no-cache/);
    const all = parseSse(res.body);
    expect(all.map((e) => [e.id, e.event])).toEqual([
      [started.id, "run.started"],
      [e1.id, "run.epoch"],
      [fin.id, "experiment.finished"],
    ]);
    expect(all[1]!.data).toEqual(epochEvent(id, runId, 1).data);

    const resumed = await request(t, "GET", `/v1/experiments/${id}/events`, {
      headers: { "last-event-id": started.id },
    });
    expect(parseSse(resumed.body).map((e) => e.id)).toEqual([e1.id, fin.id]);
  });

  it("streams live events published after it connected, once each, with heartbeats", async () => {
    const { id, runId } = await newExperiment();
    const first = await recordEvent(t.database.db, id, epochEvent(id, runId, 1));
    const pending = t.app.inject({
      method: "GET",
      url: `/v1/experiments/${id}/events?access_token=${t.keyA}`,
    });
    await expect.poll(() => t.app.hub.channelCount).toBeGreaterThan(1); // + key revocation channel
    await new Promise((r) => setTimeout(r, 120)); // a few heartbeats
    const second = await emit(id, epochEvent(id, runId, 2));
    await publishEvent(t.app.redis, t.app.channels, id, second); // duplicate delivery
    await publishEvent(t.app.redis, t.app.channels, id, first); // already replayed
    const fin = await emit(id, {
      type: "experiment.finished",
      data: { experimentId: id, status: "succeeded" },
    });
    const res = await pending;
    expect(res.statusCode).toBe(200);
    expect(parseSse(res.body).map((e) => e.id)).toEqual([first.id, second.id, fin.id]);
    expect(res.body).toContain(": heartbeat\n\n");
    expect(res.body.startsWith("retry: 3000\n\n")).toBe(true);
  });

  it("hears only its own QUEUE_PREFIX's channel, not another deployment's on the same Redis", async () => {
    const { id, runId } = await newExperiment();
    expect(t.app.channels.events(id)).toBe(`${t.prefix}:events:${id}`);
    const pending = request(t, "GET", `/v1/experiments/${id}/events`);
    // Subscribed in Redis (not just asked to), so a message on the wrong channel could arrive.
    await expect
      .poll(async () => ((await t.app.redis.pubsub("NUMSUB", t.app.channels.events(id))) as unknown[])[1], {
        timeout: 15_000,
      })
      .toBe(1);
    // Same experiment id, other deployments: the default prefix (the channel every deployment
    // used before channels were prefixed) and another test prefix. Ids no stream has stored, so
    // only pub/sub could deliver them.
    for (const [n, prefix] of [
      ["900000000001", "actlab"],
      ["900000000002", `${t.prefix}-other`],
    ] as const) {
      await publishEvent(t.app.redis, pubsubChannels(prefix), id, {
        id: n,
        type: "run.epoch",
        data: epochEvent(id, runId, 9).data,
      });
    }
    // Published after the foreign ones on the same connection, so they would have arrived first.
    const own = await emit(id, epochEvent(id, runId, 1));
    const fin = await emit(id, {
      type: "experiment.finished",
      data: { experimentId: id, status: "succeeded" },
    });
    const res = await pending;
    expect(parseSse(res.body).map((e) => e.id)).toEqual([own.id, fin.id]);
  });

  it("ends right after the replay when the experiment has already finished", async () => {
    const { id, runId } = await newExperiment();
    const stored = await recordEvent(t.database.db, id, epochEvent(id, runId, 1));
    await t.database.db.experiment.update({
      where: { id },
      data: { status: "failed", finishedAt: new Date() },
    });
    const res = await request(t, "GET", `/v1/experiments/${id}/events`);
    expect(parseSse(res.body).map((e) => e.id)).toEqual([stored.id]);
  });

  it("does not replay an experiment.finished that a continue made untrue", async () => {
    const { id, runId } = await newExperiment();
    const finished = {
      type: "experiment.finished",
      data: { experimentId: id, status: "succeeded" },
    } as const;
    const e1 = await recordEvent(t.database.db, id, epochEvent(id, runId, 1));
    await recordEvent(t.database.db, id, finished);
    // Continued: queued again (status not terminal), no new event yet; the old end is not sent.
    const queued = await t.app
      .inject({
        method: "GET",
        url: `/v1/experiments/${id}/events`,
        headers: bearer(t.keyA),
        signal: AbortSignal.timeout(1_500),
      })
      .catch(() => null);
    expect(queued).toBeNull(); // the stream stays open: no end was replayed
    // Its runs train again and it finishes again: the first end is skipped, the second one ends the stream.
    const e2 = await recordEvent(t.database.db, id, epochEvent(id, runId, 2));
    await t.database.db.experiment.update({
      where: { id },
      data: { status: "succeeded", finishedAt: new Date() },
    });
    const fin2 = await recordEvent(t.database.db, id, finished);
    const res = await request(t, "GET", `/v1/experiments/${id}/events`);
    expect(parseSse(res.body).map((e) => [e.id, e.event])).toEqual([
      [e1.id, "run.epoch"],
      [e2.id, "run.epoch"],
      [fin2.id, "experiment.finished"],
    ]);
  });

  it("needs a key of the owning tenant (header or access_token)", async () => {
    const { id } = await newExperiment();
    const none = await t.app.inject({ method: "GET", url: `/v1/experiments/${id}/events` });
    expect(none.statusCode).toBe(401);
    expect(none.headers["content-type"]).toMatch(/problem\+json/);
    const wrong = await t.app.inject({
      method: "GET",
      url: `/v1/experiments/${id}/events?access_token=ak_wrongwrongwrongwrong`,
    });
    expect(wrong.statusCode).toBe(401);
    const other = await t.app.inject({
      method: "GET",
      url: `/v1/experiments/${id}/events?access_token=${t.keyB}`,
    });
    expect(other.statusCode).toBe(404);
    // access_token is accepted on this route only.
    const elsewhere = await t.app.inject({
      method: "GET",
      url: `/v1/experiments/${id}?access_token=${t.keyA}`,
    });
    expect(elsewhere.statusCode).toBe(401);
  });

  it("flushes each event to a real HTTP client as it happens (curl -N)", async () => {
    const { id, runId } = await newExperiment();
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = t.app.server.address() as AddressInfo;
    const chunks: string[] = [];
    let ended = false;
    const req = get(
      { host: "127.0.0.1", port, path: `/v1/experiments/${id}/events`, headers: bearer(t.keyA) },
      (res) => {
        res.setEncoding("utf8");
        res.on("data", (c: string) => chunks.push(c));
        res.on("end", () => {
          ended = true;
        });
      },
    );
    await expect.poll(() => chunks.join("")).toContain("retry: 3000");
    const e = await emit(id, epochEvent(id, runId, 1));
    await expect.poll(() => chunks.join("")).toContain(`id: ${e.id}\nevent: run.epoch\n`);
    expect(ended).toBe(false);
    await emit(id, { type: "experiment.finished", data: { experimentId: id, status: "succeeded" } });
    await expect.poll(() => ended).toBe(true);
    req.destroy();
  });
});
