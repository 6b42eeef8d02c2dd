import { lookup } from "node:dns/promises";
import { hostname } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { startWebhookReceiver, verifyHook, type WebhookReceiver } from "../../../tests/support/index.js";
import { isAllowedAddress, PUBLIC_ONLY, type TargetPolicy, targetProblem, ZAllowedHosts } from "./policy.js";
import { sendWebhook } from "./send.js";
import { createSecret } from "./sign.js";

const LOOPBACK: TargetPolicy = ZAllowedHosts.parse("127.0.0.1/32, ::1");

const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function receiver(answer?: Parameters<typeof startWebhookReceiver>[0]) {
  const r = await startWebhookReceiver(answer);
  receivers.push(r);
  return r;
}

const message = JSON.stringify({
  type: "experiment.finished",
  timestamp: "2026-12-02T16:00:00.000Z",
  data: { experimentId: "e1", status: "succeeded" },
});

describe("WEBHOOK_ALLOWED_HOSTS", () => {
  it("takes host names, addresses and CIDR ranges, and names an entry that is none of them", () => {
    expect(ZAllowedHosts.parse(" receiver.internal ,10.0.0.0/8,127.0.0.1,::1, ")).toEqual({
      hosts: ["receiver.internal"],
      cidrs: ["10.0.0.0/8", "127.0.0.1/32", "::1/128"],
    });
    expect(ZAllowedHosts.parse(undefined)).toEqual(PUBLIC_ONLY);
    const bad = ZAllowedHosts.safeParse("ok.example,10.0.0.0/99,bad_name!");
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.message)).toEqual([
      '"10.0.0.0/99" is neither a host name, an address nor a CIDR range',
      '"bad_name!" is neither a host name, an address nor a CIDR range',
    ]);
  });
});

describe("targetProblem", () => {
  it("refuses other schemes, credentials, and private, loopback and link-local literals by default", () => {
    for (const [url, why] of [
      ["ftp://example.com/x", /http or https/],
      ["file:///etc/passwd", /http or https/],
      ["not a url", /absolute/],
      ["https://user:pw@example.com/", /credentials/],
      ["http://127.0.0.1:8080/", /127\.0\.0\.1 is not a public address/],
      ["http://127.1/", /127\.0\.0\.1 is not a public address/],
      ["http://0x7f000001/", /127\.0\.0\.1 is not a public address/],
      ["http://[::1]/", /::1 is not a public address/],
      ["http://[::ffff:127.0.0.1]/", /not a public address/],
      ["http://10.1.2.3/", /not a public address/],
      ["http://192.168.0.10/", /not a public address/],
      ["http://169.254.169.254/latest/meta-data", /not a public address/],
      ["http://0.0.0.0/", /not a public address/],
      ["http://localhost:3000/", /loopback name/],
      ["http://api.localhost/", /loopback name/],
    ] as const) {
      expect(targetProblem(url, PUBLIC_ONLY), url).toMatch(why);
    }
    expect(targetProblem("https://93.184.216.34/hook", PUBLIC_ONLY)).toBeNull();
    expect(targetProblem("https://hooks.example.com/x?y=1", PUBLIC_ONLY)).toBeNull();
  });

  it("lets through what WEBHOOK_ALLOWED_HOSTS allows, and nothing more", () => {
    const policy = ZAllowedHosts.parse("10.0.0.0/8,localhost");
    expect(targetProblem("http://10.1.2.3/", policy)).toBeNull();
    expect(targetProblem("http://localhost:3000/", policy)).toBeNull();
    expect(targetProblem("http://192.168.0.10/", policy)).toMatch(/not a public address/);
    expect(targetProblem("http://127.0.0.1/", LOOPBACK)).toBeNull();
    expect(targetProblem("http://[::1]:9/", LOOPBACK)).toBeNull();
  });
});

describe("sendWebhook", () => {
  it("delivers a message a Standard Webhooks library verifies, and a changed body fails verification", async () => {
    const r = await receiver();
    const secret = createSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const at = new Date("2026-12-02T16:00:05Z");
    const outcome = await sendWebhook({
      url: r.url,
      secret,
      id: "msg_1",
      body: message,
      policy: LOOPBACK,
      timeoutMs: 5_000,
      now: () => at,
    });
    expect(outcome).toMatchObject({ ok: true, statusCode: 204, error: null, refused: false });
    expect(r.received).toHaveLength(1);
    const hit = r.received[0]!;
    const { headers, body } = hit;
    expect(body).toBe(message);
    expect(headers["content-type"]).toBe("application/json");
    expect(headers["webhook-id"]).toBe("msg_1");
    expect(headers["webhook-timestamp"]).toBe(String(at.getTime() / 1000));
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    // The library checks the timestamp against its clock: verify as of the signing time.
    const realNow = Date.now;
    Date.now = () => at.getTime();
    try {
      expect(verifyHook(secret, hit)).toEqual(JSON.parse(message));
      expect(() => verifyHook(secret, { ...hit, body: body.replace("succeeded", "failed") })).toThrow();
      expect(() => verifyHook(createSecret(), hit)).toThrow();
      // Ten minutes later the same request is refused as stale (replay protection).
      Date.now = () => at.getTime() + 600_000;
      expect(() => verifyHook(secret, hit)).toThrow();
    } finally {
      Date.now = realNow;
    }
  });

  it("refuses loopback unless allowed, checking the address a name resolves to, and sends nothing", async () => {
    const r = await receiver();
    const base = { secret: createSecret(), id: "msg_2", body: message, timeoutMs: 5_000 };
    const literal = await sendWebhook({ ...base, url: r.url, policy: PUBLIC_ONLY });
    expect(literal).toMatchObject({ ok: false, refused: true, statusCode: null });
    expect(literal.error).toMatch(/^refused: 127\.0\.0\.1 is not a public address/);
    // The machine's own name passes the URL check (it is a name) and resolves to a loopback or
    // private address: the agent refuses the resolved address before connecting.
    const name = hostname();
    const { address } = await lookup(name);
    expect(isAllowedAddress(address, PUBLIC_ONLY), `${name} resolves to ${address}`).toBe(false);
    expect(targetProblem(`http://${name}:${r.port}/hook`, PUBLIC_ONLY)).toBeNull();
    const named = await sendWebhook({ ...base, url: `http://${name}:${r.port}/hook`, policy: PUBLIC_ONLY });
    expect(named).toMatchObject({ ok: false, refused: true, statusCode: null });
    expect(named.error).toMatch(/^refused: DNS lookup .* is not allowed/);
    expect(r.received).toHaveLength(0);
  });

  it("follows no redirect, times out, and reports a receiver's error status", async () => {
    const elsewhere = await receiver();
    const redirecting = await receiver((_, res) => {
      res.writeHead(307, { location: elsewhere.url }).end();
    });
    const base = { secret: createSecret(), id: "msg_3", body: message, policy: LOOPBACK, timeoutMs: 5_000 };
    const redirected = await sendWebhook({ ...base, url: redirecting.url });
    expect(redirected).toMatchObject({ ok: false, statusCode: 307, refused: false });
    expect(redirected.error).toBe(`redirect to ${elsewhere.url} not followed`);
    expect(elsewhere.received).toHaveLength(0);

    const silent = await receiver(() => {}); // never answers
    const timedOut = await sendWebhook({ ...base, url: silent.url, timeoutMs: 300 });
    expect(timedOut).toMatchObject({ ok: false, statusCode: null, error: "no answer within 300 ms" });
    expect(timedOut.durationMs).toBeLessThan(3_000);

    const broken = await receiver((_, res) => res.writeHead(503).end("down for maintenance"));
    const failed = await sendWebhook({ ...base, url: broken.url });
    expect(failed).toMatchObject({ ok: false, statusCode: 503, error: "HTTP 503: down for maintenance" });
  });
});
