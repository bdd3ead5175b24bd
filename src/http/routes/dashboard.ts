import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { routeDoc } from "../../openapi/route-doc.js";
import { registerPublic } from "../auth.js";

const PUBLIC = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../dashboard/public");

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
  "connect-src 'self'",
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
  app.get("/", pageDoc, async (_req, reply) =>
    reply
      .header("content-type", "text/html; charset=utf-8")
      .header("cache-control", "no-cache")
      .header("content-security-policy", CSP)
      .header("x-content-type-options", "nosniff")
      .send(index),
  );
};
