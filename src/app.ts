import { registerRequestLog } from "./http/request-log.js";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { pino } from "pino";
import type { Config } from "./config/config.js";
import { registerAuth } from "./http/auth.js";
import { registerForwarding } from "./http/forward.js";
import { registerApiDocs } from "./http/api-docs.js";
import { registerJsonBody } from "./http/json-body.js";
import { frameworkErrors, registerErrorHandler } from "./http/error-handler.js";
import { healthRoutes } from "./http/routes/health.js";
import { scrapeRoutes } from "./http/routes/scrape.js";
import { fileRoutes } from "./http/routes/files.js";
import { liveViewRoutes } from "./http/routes/liveview.js";
import { cdpRoutes } from "./http/routes/cdp.js";
import { clusterRoutes } from "./http/routes/cluster.js";
import { interactRoutes } from "./http/routes/interact.js";
import { teamRoutes } from "./http/routes/team.js";
import { usageRoutes } from "./http/routes/usage.js";
import { browserRoutes } from "./http/routes/browser.js";
import { metricsRoutes } from "./http/routes/metrics.js";
import { sessionRoutes } from "./http/routes/sessions.js";
import { dashboardRoutes } from "./http/routes/dashboard.js";
import type { Services } from "./services.js";
import { UpgradeRegistry } from "./http/upgrade.js";
import { serializerCompiler, validatorCompiler } from "./http/validate.js";
import { registerResponseCheck } from "./http/response-check.js";

declare module "fastify" {
  interface FastifyInstance {
    upgrades: UpgradeRegistry;
  }
}

/**
 * The server's one logger, made before anything else so every part logs through it from the
 * start, and handed to Fastify: JSON lines, or pino-pretty's readable ones (in a worker thread)
 * at a terminal.
 */
export function serverLogger(config: Config): FastifyBaseLogger {
  if (config.logLevel === "silent" || config.logFormat === "json") {
    return pino({ level: config.logLevel });
  }
  return pino({
    level: config.logLevel,
    transport: {
      target: "pino-pretty",
      options: { translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname", singleLine: true },
    },
  });
}

/** Builds the HTTP app around ready services. No side effects: tests build the real thing. */
export function buildApp(
  config: Config,
  services: Services,
  log: FastifyBaseLogger = serverLogger(config),
): FastifyInstance {
  const app = Fastify({
    loggerInstance: log,
    bodyLimit: 2 * 1024 * 1024,
    // A path parameter may be a profile's name: 128 UTF-8 bytes, 384 characters percent-encoded.
    routerOptions: { maxParamLength: 512 },
    // X-Forwarded-* decide the host in cdpUrl, live view and screenshot URLs; any client can send
    // them, so they count only when an operator says a proxy in front sets them.
    trustProxy: config.trustProxy,
    return503OnClosing: true,
    frameworkErrors,
    // Keep-alive sockets would otherwise hold close() open until the client drops them.
    forceCloseConnections: true,
    // One line per answered request instead (src/http/request-log.ts).
    logController: new LogController({ disableRequestLogging: true }),
  });
  registerRequestLog(app);
  // Every route's params, query and body are its zod schemas' to check (src/openapi/route-doc.ts).
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  if (config.checkResponses) registerResponseCheck(app);
  registerErrorHandler(app, (code) => services.metrics.errorAnswered(code));
  registerJsonBody(app);
  // Before the key check: a request with a bad node proof is refused first, and a forwarded
  // one is authenticated by the node that answers it.
  services.requests.register(app);
  registerForwarding(app, services.forwarding);
  registerAuth(app, config, services.teams);
  registerApiDocs(app);
  app.register(healthRoutes, { services });
  app.register(scrapeRoutes, { services });
  app.register(fileRoutes, { services });
  app.register(liveViewRoutes, { services });
  app.register(cdpRoutes, { services });
  app.register(clusterRoutes, { services });
  app.register(interactRoutes, { services });
  app.register(teamRoutes, { services });
  app.register(usageRoutes, { services });
  app.register(browserRoutes, { services });
  app.register(metricsRoutes, { services });
  app.register(sessionRoutes, { services });
  app.register(dashboardRoutes);
  // WebSocket endpoints (CDP proxy, live view) register here; one listener routes them.
  const upgrades = new UpgradeRegistry();
  app.decorate("upgrades", upgrades);
  upgrades.attach(app);
  return app;
}
