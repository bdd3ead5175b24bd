import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { SessionOverview, sessionSummarySchema } from "../../dashboard/sessions.js";
import { routeDoc } from "../../openapi/route-doc.js";
import type { Services } from "../../services.js";
import { publicBaseUrl } from "../../urls/public-urls.js";

const listDoc = routeDoc({
  access: "team",
  operationId: "listSessions",
  summary: "The team's sessions, live and recently ended",
  description:
    "Every session of the caller's team (every session while authentication is off): live ones " +
    "first, then those that ended in the last ten minutes, with why. Not part of Firecrawl's API.",
  tags: ["Dashboard"],
  response: {
    description: "The sessions.",
    schema: z.object({ success: z.literal(true), sessions: z.array(sessionSummarySchema) }),
  },
  errors: ["DATABASE_UNAVAILABLE"],
});

/** GET /v2/sessions: the caller's team's sessions, live and recently ended (the dashboard's list). */
export const sessionRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (
  app,
  { services },
) => {
  const overview = new SessionOverview(services.sessions, services.store.scrapes);
  app.get("/v2/sessions", listDoc, async (req) => {
    const baseUrl = publicBaseUrl(services.config.publicUrl, req);
    return { success: true as const, sessions: await overview.list(req.teamId, baseUrl) };
  });
};
