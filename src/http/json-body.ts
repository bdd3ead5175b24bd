import type { FastifyInstance } from "fastify";

/** Methods whose requests carry no body: an empty one with a JSON content-type is no body. */
const BODYLESS = new Set(["GET", "HEAD", "DELETE", "OPTIONS"]);

/**
 * Fastify's own JSON parser (with its prototype-poisoning checks), except that a body-less
 * request sent with `Content-Type: application/json` and nothing in it (Python's `requests`,
 * some `fetch` callers) is accepted instead of answered with "Body cannot be empty".
 */
export function registerJsonBody(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    if (body === "" && BODYLESS.has(req.method)) return done(null, undefined);
    parse(req, body as string, done);
  });
}
