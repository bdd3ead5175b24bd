import type { FastifyPluginAsync } from "fastify";
import type { Services } from "../../services.js";

/** Liveness: answers 200 once the server accepts requests, with what an operator wants to see. */
export const healthRoutes: FastifyPluginAsync<{ services: Services }> = async (
  app,
  { services },
) => {
  app.get("/health", async () => ({
    success: true,
    status: "ok",
    activeSessions: services.sessions.activeCount(),
    maxSessions: services.config.maxBrowserSessions,
    sandbox: services.sandbox,
  }));
};
