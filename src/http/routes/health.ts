import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { runHealthChecks } from "../../health/checks.js";
import type { Language } from "../../sandbox/index.js";
import type { Services } from "../../services.js";
import { routeDoc } from "../../openapi/route-doc.js";

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

const availability = z.object({
  available: z.boolean(),
  reason: z.string().optional().describe("Why not, as a call would be told in its 503."),
});

const bytes = z.number().int();

/** Each check's result: `ok`, and what it measured. */
const checks = z.object({
  disk: z.object({
    ok: z.boolean(),
    freeBytes: bytes.nullable().describe("Free space in DATA_DIR; null when it cannot be read."),
    minFreeBytes: bytes,
  }),
  database: z.object({ ok: z.boolean(), writable: z.boolean().optional() }),
  chromium: z.object({ ok: z.boolean(), error: z.string().optional() }),
  sandbox: z.object({ ok: z.boolean(), mode: z.string() }),
  pool: z
    .object({
      ok: z.literal(true),
      ready: z.number().int(),
      launching: z.number().int(),
      target: z.number().int(),
      size: z.number().int(),
    })
    .describe("Warm browsers (informational: never fails)."),
  memory: z.object({ ok: z.boolean(), availableBytes: bytes, minFreeBytes: bytes }),
  draining: z
    .object({ ok: z.boolean() })
    .describe("Not draining (SIGTERM or the admin command): a draining server is leaving."),
});

const healthReport = z.object({
  success: z.boolean(),
  status: z.enum(["ok", "degraded"]),
  activeSessions: z.number().int(),
  maxSessions: z.number().int(),
  sandbox: z.string().describe("bwrap, none or unavailable."),
  database: z.enum(["sqlite", "postgres"]),
  authentication: z.boolean().describe("Whether /v2 needs a team's key."),
  languages: z.record(availability).describe("node, python and bash."),
  prompt: availability.extend({ provider: z.string().optional(), model: z.string().optional() }),
  checks,
});

const liveDoc = routeDoc({
  access: "public",
  operationId: "getLiveness",
  summary: "Liveness: the process answers",
  description: "Nothing else is checked, so a restart is never asked for.",
  tags: ["Health"],
  response: { description: "Alive.", schema: z.object({ status: z.literal("ok") }) },
});

const readyDoc = routeDoc({
  access: "public",
  operationId: "getReadiness",
  summary: "Readiness: every check passes",
  tags: ["Health"],
  response: { description: "Ready.", schema: z.object({ ready: z.literal(true) }) },
  otherResponses: {
    503: {
      description: "Not ready: the failing checks.",
      schema: z.object({ ready: z.literal(false), failing: checks.partial() }),
    },
  },
});

const healthDoc = routeDoc({
  access: "public",
  operationId: "getHealth",
  summary: "What the server can do, and every check",
  tags: ["Health"],
  response: { description: "Every check passes.", schema: healthReport },
  otherResponses: { 503: { description: "A check fails (same fields).", schema: healthReport } },
});

/**
 * 200 while the server can do its work, 503 when a check fails (a full disk, a database that
 * does not answer), so a load balancer stops sending scrapes that would only fail.
 */
export const healthRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (
  app,
  { services },
) => {
  const check = () =>
    runHealthChecks({
      dataDir: services.config.dataDir,
      minFreeDiskBytes: services.config.minFreeDiskBytes,
      minFreeMemoryBytes: services.config.minFreeMemoryBytes,
      store: services.store,
      sources: services.health,
    });

  /** Liveness: the process answers. Nothing else is checked, so a restart is never asked for. */
  app.get("/health/live", liveDoc, async () => ({ status: "ok" as const }));

  /** Readiness: every check passes; 503 naming the ones that do not. */
  app.get("/health/ready", readyDoc, async (_req, reply) => {
    const { healthy, checks } = await check();
    const failing = Object.fromEntries(Object.entries(checks).filter(([, c]) => !c.ok));
    return reply
      .status(healthy ? 200 : 503)
      .send(healthy ? { ready: true } : { ready: false, failing });
  });

  app.get("/health", healthDoc, async (_req, reply) => {
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
