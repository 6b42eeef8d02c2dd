import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliCompressSync, brotliDecompressSync, gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../../__tests__/helpers.js";

const apps: TestApi[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const a of apps) await a.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("dashboard at /", () => {
  it("without a build, / says how to build it", async () => {
    const t = await startTestApi("nodash");
    apps.push(t);
    const res = await t.app.inject({ method: "GET", url: "/" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/npm run build/);
  });

  it("serves the built files, falls back to index.html for client routes, never for /v1", async () => {
    const root = mkdtempSync(join(tmpdir(), "actlab-dash-"));
    dirs.push(root);
    mkdirSync(join(root, "assets"));
    writeFileSync(join(root, "index.html"), "<!doctype html><div id=root></div>");
    writeFileSync(join(root, "assets", "app.js"), "console.log(1)");
    const t = await startTestApi("dash", { DASHBOARD_DIR: root });
    apps.push(t);
    const index = await t.app.inject({ method: "GET", url: "/" });
    expect(index.statusCode).toBe(200);
    expect(index.body).toContain("id=root");
    const asset = await t.app.inject({ method: "GET", url: "/assets/app.js" });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers["content-type"]).toMatch(/javascript/);
    const route = await t.app.inject({ method: "GET", url: "/experiments/123?tab=charts" });
    expect(route.statusCode).toBe(200);
    expect(route.headers["content-type"]).toMatch(/^text\/html/);
    expect(route.body).toContain("id=root");
    const api = await t.app.inject({ method: "GET", url: "/v1/unknown/route" });
    expect(api.statusCode).toBe(404);
    expect(api.headers["content-type"]).toMatch(/problem\+json/);
    // A rebuild after start-up adds new hashed files: they are served, and a missing one is a 404
    // (never index.html, which the browser would try to run as a script).
    writeFileSync(join(root, "assets", "app-new.js"), "console.log(2)");
    const rebuilt = await t.app.inject({ method: "GET", url: "/assets/app-new.js" });
    expect(rebuilt.statusCode).toBe(200);
    expect(rebuilt.body).toBe("console.log(2)");
    const missing = await t.app.inject({ method: "GET", url: "/assets/gone.js" });
    expect(missing.statusCode).toBe(404);
    const traversal = await t.app.inject({ method: "GET", url: "/assets/..%2f..%2fetc%2fpasswd.txt" });
    expect(traversal.statusCode).toBe(404);
    const health = await t.app.inject({ method: "GET", url: "/healthz" });
    expect(health.json()).toEqual({ status: "ok" });
  });

  it("sends precompressed copies to clients that accept them and caches hashed assets for a year", async () => {
    const root = mkdtempSync(join(tmpdir(), "actlab-dash-"));
    dirs.push(root);
    mkdirSync(join(root, "assets"));
    const js = `console.log(${JSON.stringify("x".repeat(5000))});`;
    const html = "<!doctype html><script src=/assets/index-BHf3k2aX.js></script><div id=root></div>";
    writeFileSync(join(root, "index.html"), html);
    writeFileSync(join(root, "index.html.br"), brotliCompressSync(html));
    writeFileSync(join(root, "assets", "index-BHf3k2aX.js"), js);
    writeFileSync(join(root, "assets", "index-BHf3k2aX.js.br"), brotliCompressSync(js));
    writeFileSync(join(root, "assets", "index-BHf3k2aX.js.gz"), gzipSync(js));
    const t = await startTestApi("dashzip", { DASHBOARD_DIR: root });
    apps.push(t);

    const br = await t.app.inject({
      method: "GET",
      url: "/assets/index-BHf3k2aX.js",
      headers: { "accept-encoding": "gzip, deflate, br" },
    });
    expect(br.statusCode).toBe(200);
    expect(br.headers["content-encoding"]).toBe("br");
    expect(br.headers["content-type"]).toMatch(/javascript/);
    expect(br.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(br.rawPayload.length).toBeLessThan(js.length / 10);
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(js);

    const gz = await t.app.inject({
      method: "GET",
      url: "/assets/index-BHf3k2aX.js",
      headers: { "accept-encoding": "gzip" },
    });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    const plain = await t.app.inject({ method: "GET", url: "/assets/index-BHf3k2aX.js" });
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body).toBe(js);
    expect(plain.headers["cache-control"]).toBe("public, max-age=31536000, immutable");

    // index.html names the hashed files: revalidated every time, so a new build shows at once.
    for (const url of ["/", "/experiments/123"]) {
      const index = await t.app.inject({ method: "GET", url, headers: { "accept-encoding": "br" } });
      expect(index.statusCode).toBe(200);
      expect(index.headers["cache-control"]).toBe("no-cache");
    }
  });
});
