import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Config } from "../config/config.js";

/** The team every request belongs to while authentication is off, as in Firecrawl self-hosted. */
export const SELF_HOSTED_TEAM = "self-hosted";

declare module "fastify" {
  interface FastifyRequest {
    teamId: string;
  }
}

/**
 * Resolves the caller's team. With USE_DB_AUTHENTICATION off any key (or none) is accepted, like
 * Firecrawl's self-hosted server, and everything belongs to one team.
 */
export function registerAuth(app: FastifyInstance, config: Config): void {
  app.decorateRequest("teamId", "");
  // loadConfig refuses USE_DB_AUTHENTICATION=true until team keys exist, so one team is the truth.
  void config;
  app.addHook("onRequest", async (req: FastifyRequest) => {
    req.teamId = SELF_HOSTED_TEAM;
  });
}
