import { existsSync } from "node:fs";
import { join } from "node:path";
import fastifyHelmet from "@fastify/helmet";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { notFound } from "../../errors.js";
import { HELMET_OPTIONS } from "../../plugins/app/security-headers.js";

/**
 * The built dashboard at `/`: its files, and index.html for any other GET outside /v1 (the SPA
 * routes itself). Without a build, `/` says how to make one.
 */
export default async function dashboard(app: FastifyInstance, { root }: { root: string }) {
  const hasBuild = existsSync(join(root, "index.html"));
  if (!hasBuild) {
    app.get("/", { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type("text/plain; charset=utf-8")
        .send(
          "actlab API is running. The dashboard is not built: run `npm run build -w @actlab/dashboard` " +
            "(or `npm run build`) and restart. API docs: /docs\n",
        ),
    );
    return;
  }
  // Helmet proper where HTML is served (encapsulated: this scope only); see plugins/app/security-headers.ts.
  await app.register(fastifyHelmet, HELMET_OPTIONS);
  await app.register(fastifyStatic, { root, wildcard: false, index: ["index.html"] });
  app.get("/*", { schema: { hide: true } }, async (request, reply) => {
    const path = request.url.split("?")[0]!;
    if (path === "/v1" || path.startsWith("/v1/") || /^\/(docs|openapi\.json)/.test(path)) {
      throw notFound("route", `GET ${path}`);
    }
    // A path with an extension is a file, never an SPA route: serve it if a rebuild made it after
    // start-up (wildcard:false only routes the files present then), else 404 — not index.html,
    // which a browser would try to run as the missing script.
    if (/\.[A-Za-z0-9]+$/.test(path)) return reply.sendFile(path.slice(1));
    return reply.type("text/html; charset=utf-8").sendFile("index.html");
  });
}
