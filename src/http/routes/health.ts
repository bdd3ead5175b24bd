import type { FastifyPluginAsync } from "fastify";

/** Liveness: answers 200 once the server accepts requests. */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get("/health", async () => ({ success: true, status: "ok" }));
};
