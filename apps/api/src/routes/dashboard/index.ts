import { existsSync } from "node:fs";
import { join } from "node:path";
import fastifyHelmet from "@fastify/helmet";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { notFound } from "../../errors.js";
import { HELMET_OPTIONS } from "../../plugins/app/security-headers.js";

/** A year: the longest a cache keeps anything (RFC 9111 suggests no more). */
const YEAR_SECONDS = 31_536_000;

/**
 * Vite names every file under assets/ by a hash of its content, so it can be cached for a year and
 * never revalidated: a new build links new names. Everything else (index.html, which links them)
 * is revalidated on every use, so a deploy shows at once.
 */
export function cacheControlFor(path: string): string {
  return /[\\/]assets[\\/][^\\/]+-[\w-]{8,}\.\w+(\.(br|gz))?$/.test(path)
    ? `public, max-age=${YEAR_SECONDS}, immutable`
    : "no-cache";
}

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
  await app.register(fastifyStatic, {
    root,
    wildcard: false,
    index: ["index.html"],
    // The build writes .br and .gz copies (apps/dashboard/scripts/precompress.mjs): sent as they are.
    preCompressed: true,
    // Cache-Control is ours (setHeaders), not send's `public, max-age=0`.
    cacheControl: false,
    setHeaders: (res, path) => {
      res.setHeader("cache-control", cacheControlFor(path));
      res.setHeader("vary", "accept-encoding");
    },
  });
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
