import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { routeDoc } from "../../openapi/route-doc.js";
import { registerPublic } from "../auth.js";

const PUBLIC = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../dashboard/public");
/** hls.js (pinned in package.json), served from here: the page plays recordings with it. */
const HLS = path.dirname(createRequire(import.meta.url).resolve("hls.js"));

/**
 * The page only talks to this server's own API; the live views it embeds and the screenshots it
 * shows may come from PUBLIC_URL's host, so frames and images may be any http(s) origin. Scraped
 * content is only ever inserted as text.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob: http: https:",
  "frame-src 'self' http: https:",
  // Recordings play through Media Source (blob: URLs); their segments may be on PUBLIC_URL's host.
  "media-src 'self' blob:",
  "connect-src 'self' http: https:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const pageDoc = routeDoc({
  access: "public",
  operationId: "getDashboard",
  summary: "The dashboard and playground (HTML)",
  description: "Its scripts and styles are under /dashboard/. Loading it needs no key.",
  tags: ["Dashboard"],
  response: { description: "The page.", contentTypes: ["text/html"] },
});

/** GET / (the dashboard and playground) and its assets under /dashboard/. No key needed to load. */
export const dashboardRoutes: FastifyPluginAsyncZod = async (app) => {
  const index = fs.readFileSync(path.join(PUBLIC, "index.html"));
  registerPublic(app, fastifyStatic, {
    root: PUBLIC,
    prefix: "/dashboard/",
    wildcard: false,
    decorateReply: false,
    // index.html is reachable here too: it gets the page's headers wherever it is loaded from.
    setHeaders: (reply) => {
      reply.header("content-security-policy", CSP);
      reply.header("x-content-type-options", "nosniff");
    },
  });
  registerPublic(app, fastifyStatic, {
    root: HLS,
    prefix: "/dashboard/vendor/hls/",
    allowedPath: (file) => file === "/hls.min.mjs",
    wildcard: false,
    decorateReply: false,
  });
  app.get("/", pageDoc, async (_req, reply) =>
    reply
      .header("content-type", "text/html; charset=utf-8")
      .header("cache-control", "no-cache")
      .header("content-security-policy", CSP)
      .header("x-content-type-options", "nosniff")
      .send(index),
  );
};
