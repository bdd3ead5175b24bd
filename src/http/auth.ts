import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyPluginCallback,
  FastifyPluginOptions,
  FastifyRequest,
  RouteOptions,
} from "fastify";
import type { Config } from "../config/config.js";
import { AppError } from "../errors/app-error.js";
import { bearerKey } from "../teams/keys.js";
import type { TeamService } from "../teams/service.js";

/** The team every request belongs to while authentication is off, as in Firecrawl self-hosted. */
export const SELF_HOSTED_TEAM = "self-hosted";

/**
 * Who may call a route: `team`, a team's key (when authentication is on); `public`, anyone
 * (health, the API document, screenshot files whose unguessable URLs are their key, the
 * dashboard's files); `metricsToken`, whoever has METRICS_TOKEN (checked by the route itself);
 * `node`, only another node of the cluster (a request with a valid proof); to anyone else such a
 * route does not exist.
 */
export type RouteAccess = "team" | "public" | "metricsToken" | "node";

declare module "fastify" {
  interface FastifyRequest {
    teamId: string;
    /** The id of the API key the request authenticated with; null while none is asked for. */
    apiKeyId: string | null;
  }
  interface FastifyContextConfig {
    /** Who may call the route; every route says (see registerAuth). */
    access?: RouteAccess;
  }
}

const MISSING =
  "Unauthorized: this server needs an API key. Send it as 'Authorization: Bearer fc-...'.";
const INVALID = "Unauthorized: invalid or revoked API key.";
const NOT_BEARER =
  "Unauthorized: the Authorization header must be 'Bearer ' then the key ('Authorization: Bearer fc-...'); the word Bearer is missing.";

/**
 * Resolves the caller's team. With USE_DB_AUTHENTICATION off any key (or none) is accepted, like
 * Firecrawl's self-hosted server, and everything belongs to one team. On, a route whose access is
 * `team` needs a team's key. The decision rests on the route the router matched, never on how
 * the request spelled its path (`/%762/...` is the same route as `/v2/...`), and a route that
 * does not say who may call it stops the server from starting.
 */
export function registerAuth(app: FastifyInstance, config: Config, teams: TeamService): void {
  app.decorateRequest("teamId", "");
  app.decorateRequest("apiKeyId", null);
  // Checked once every route is in: a plugin's scope may declare its routes after this hook ran.
  const routes: RouteOptions[] = [];
  app.addHook("onRoute", (route: RouteOptions) => void routes.push(route));
  app.addHook("onReady", async () => {
    const silent = routes.find((route) => !route.config?.access);
    if (!silent) return;
    throw new Error(
      `Route ${[silent.method].flat().join(",")} ${silent.url} does not say who may call it: ` +
        `give it config.access ("team", "public" or "metricsToken").`,
    );
  });
  app.addHook("onRequest", async (req: FastifyRequest) => {
    const access = req.routeOptions.config.access;
    if (access === "node" && !req.fromNode) throw new AppError("NOT_FOUND", "Not Found");
    // Unmatched requests (404s) have no access: nothing is served to them.
    if (access !== "team") return;
    if (!config.useDbAuthentication) {
      req.teamId = SELF_HOSTED_TEAM;
      return;
    }
    const header = req.headers.authorization;
    const key = bearerKey(header);
    if (!key)
      throw new AppError(
        "UNAUTHORIZED",
        !header ? MISSING : /^\s*bearer\b/i.test(header) ? INVALID : NOT_BEARER,
      );
    const caller = await teams.authenticate(key);
    if (!caller) throw new AppError("UNAUTHORIZED", INVALID);
    req.teamId = caller.teamId;
    req.apiKeyId = caller.keyId;
  });
}

/**
 * Registers a plugin whose own routes (static files, a reference UI) are all public, declaring
 * so for each as the plugin adds it.
 */
export function registerPublic<O extends FastifyPluginOptions>(
  app: FastifyInstance,
  plugin: FastifyPluginCallback<O> | FastifyPluginAsync<O>,
  opts: O,
): void {
  app.register(async (scope) => {
    scope.addHook("onRoute", (route: RouteOptions) => {
      route.config = { ...route.config, access: route.config?.access ?? "public" };
    });
    await scope.register(plugin as never, opts);
  });
}
