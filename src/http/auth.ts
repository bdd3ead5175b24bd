import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Config } from "../config/config.js";
import { AppError } from "../errors/app-error.js";
import { bearerKey } from "../teams/keys.js";
import type { TeamService } from "../teams/service.js";
import { PATHS } from "../urls/public-urls.js";

/** The team every request belongs to while authentication is off, as in Firecrawl self-hosted. */
export const SELF_HOSTED_TEAM = "self-hosted";

declare module "fastify" {
  interface FastifyRequest {
    teamId: string;
  }
}

const MISSING =
  "Unauthorized: this server needs an API key. Send it as 'Authorization: Bearer fc-...'.";
const INVALID = "Unauthorized: invalid or revoked API key.";

/**
 * Whether a request to this path needs a team's key while authentication is on: every /v2 path
 * but screenshot files, whose unguessable URLs are their only key so they open in a browser like
 * Firecrawl's, and the API document, which describes the API to whoever asks.
 */
export function needsTeamKey(path: string): boolean {
  return path.startsWith("/v2/") && !path.startsWith(PATHS.files) && path !== PATHS.openapi;
}

/**
 * Resolves the caller's team. With USE_DB_AUTHENTICATION off any key (or none) is accepted, like
 * Firecrawl's self-hosted server, and everything belongs to one team. On, the requests
 * needsTeamKey names must carry a team's key.
 */
export function registerAuth(app: FastifyInstance, config: Config, teams: TeamService): void {
  app.decorateRequest("teamId", "");
  app.addHook("onRequest", async (req: FastifyRequest) => {
    if (!config.useDbAuthentication) {
      req.teamId = SELF_HOSTED_TEAM;
      return;
    }
    const path = req.url.split("?")[0]!;
    if (!needsTeamKey(path)) return;
    const header = req.headers.authorization;
    const key = bearerKey(header);
    if (!key) throw new AppError("UNAUTHORIZED", header ? INVALID : MISSING);
    const teamId = await teams.authenticate(key);
    if (!teamId) throw new AppError("UNAUTHORIZED", INVALID);
    req.teamId = teamId;
  });
}
