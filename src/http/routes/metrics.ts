import { timingSafeEqual } from "node:crypto";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { AppError } from "../../errors/app-error.js";
import { routeDoc } from "../../openapi/route-doc.js";
import type { Services } from "../../services.js";
import { bearerKey } from "../../teams/keys.js";

/** Compares without telling, by its timing, how much of a guess was right. */
function sameToken(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

const metricsDoc = routeDoc({
  operationId: "getMetrics",
  summary: "Prometheus metrics",
  description: "Never needs a team's key; needs `METRICS_TOKEN` when one is set.",
  tags: ["Metrics"],
  access: "metricsToken",
  response: { description: "Prometheus text format.", contentTypes: ["text/plain"] },
});

/** GET /metrics: Prometheus text format; behind METRICS_TOKEN when it is set. */
export const metricsRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (
  app,
  { services },
) => {
  app.get("/metrics", metricsDoc, async (req, reply) => {
    const token = services.config.metricsToken;
    if (token && !sameToken(bearerKey(req.headers.authorization), token)) {
      throw new AppError(
        "UNAUTHORIZED",
        "Unauthorized: /metrics needs 'Authorization: Bearer <METRICS_TOKEN>'.",
      );
    }
    const { contentType, body } = await services.metrics.render();
    return reply.header("content-type", contentType).send(body);
  });
};
