import type { FastifyPluginAsync } from "fastify";
import { SessionOverview } from "../../dashboard/sessions.js";
import type { Services } from "../../services.js";
import { publicBaseUrl } from "../../urls/public-urls.js";

/** GET /v2/sessions: the caller's team's sessions, live and recently ended (the dashboard's list). */
export const sessionRoutes: FastifyPluginAsync<{ services: Services }> = async (
  app,
  { services },
) => {
  const overview = new SessionOverview(services.sessions, services.store.scrapes);
  app.get("/v2/sessions", async (req) => {
    const baseUrl = publicBaseUrl(services.config.publicUrl, req);
    return { success: true, sessions: await overview.list(req.teamId, baseUrl) };
  });
};
