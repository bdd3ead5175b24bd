import type { FastifyPluginAsync } from "fastify";
import { runHealthChecks } from "../../health/checks.js";
import type { Language } from "../../sandbox/index.js";
import type { Services } from "../../services.js";

const LANGUAGES: Language[] = ["node", "python", "bash"];

/** Each interact language: whether a call would run here, and if not, why. */
function languageReport(services: Services) {
  return Object.fromEntries(
    LANGUAGES.map((language) => {
      const reason = services.languageUnavailable(language);
      return [language, reason ? { available: false, reason } : { available: true }];
    }),
  );
}

/** Whether prompts would run here: the model they use, or what to set. */
function promptReport({ agent, config }: Services) {
  const reason = agent.unavailable();
  if (reason || !config.model) return { available: false, reason };
  return { available: true, provider: config.model.kind, model: config.model.model };
}

/**
 * 200 while the server can do its work, 503 when a check fails (a full disk, a database that
 * does not answer), so a load balancer stops sending scrapes that would only fail.
 */
export const healthRoutes: FastifyPluginAsync<{ services: Services }> = async (
  app,
  { services },
) => {
  const check = () =>
    runHealthChecks({
      dataDir: services.config.dataDir,
      minFreeDiskBytes: services.config.minFreeDiskBytes,
      store: services.store,
      sources: services.health,
    });

  /** Liveness: the process answers. Nothing else is checked, so a restart is never asked for. */
  app.get("/health/live", async () => ({ status: "ok" }));

  /** Readiness: every check passes; 503 naming the ones that do not. */
  app.get("/health/ready", async (_req, reply) => {
    const { healthy, checks } = await check();
    const failing = Object.fromEntries(Object.entries(checks).filter(([, c]) => !c.ok));
    return reply
      .status(healthy ? 200 : 503)
      .send(healthy ? { ready: true } : { ready: false, failing });
  });

  app.get("/health", async (_req, reply) => {
    const { config } = services;
    const { healthy, checks } = await check();
    return reply.status(healthy ? 200 : 503).send({
      success: healthy,
      status: healthy ? "ok" : "degraded",
      activeSessions: services.sessions.activeCount(),
      maxSessions: config.maxBrowserSessions,
      sandbox: services.sandbox,
      database: services.store.dialect,
      authentication: config.useDbAuthentication,
      languages: languageReport(services),
      prompt: promptReport(services),
      checks,
    });
  });
};
