import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** Paths polled by probes and scrapers: logged at debug, not once every few seconds at info. */
const QUIET = /^\/(?:health(?:\/|$)|metrics$|dashboard(?:\/|$)|favicon\.ico$)/;

/**
 * One log line per request, once answered: method, path, status and time (Fastify's own pair of
 * lines per request is off). Probes, metrics, the dashboard's files and its polling of the
 * sessions list go at debug.
 */
export function registerRequestLog(app: FastifyInstance): void {
  app.addHook("onResponse", async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split("?")[0]!;
    const polling = req.method === "GET" && path === "/v2/sessions" && reply.statusCode < 400;
    const level = QUIET.test(path) || polling ? "debug" : "info";
    req.log[level](
      { method: req.method, path, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      `${req.method} ${path} ${reply.statusCode}`,
    );
  });
}
