import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import {
  browserCreatedSchema,
  browserListSchema,
  createBrowserSchema,
  executeBrowserSchema,
  listBrowsersSchema,
  sessionIdSchema,
} from "../../browser-api/request.js";
import { interactResponseSchema, stopResponseSchema } from "../../interact/request.js";
import { routeDoc } from "../../openapi/route-doc.js";
import type { Services } from "../../services.js";
import { publicBaseUrl } from "../../urls/public-urls.js";
import { whileClientWaits } from "../client-gone.js";
import { SESSION_ERRORS } from "../session-errors.js";

const params = z.object({ id: sessionIdSchema.describe("The session's id, from its creation.") });

const createDoc = routeDoc({
  access: "team",
  operationId: "createBrowserSession",
  session: { kind: "browser", creates: true },
  summary: "Start a browser session",
  description:
    "A live browser session on a blank page, with the same sandbox, CDP and live views as interact's.",
  tags: ["Browser sessions"],
  // The body may be left out: an absent one is `{}`.
  body: createBrowserSchema.default({}),
  response: { description: "The session and where to reach it.", schema: browserCreatedSchema },
  errors: [
    "PAYMENT_REQUIRED",
    "PROFILE_IN_USE",
    "TOO_MANY_SESSIONS",
    "BROWSER_FAILED",
    "BROWSER_UNAVAILABLE",
    "SANDBOX_UNAVAILABLE",
    "SHUTTING_DOWN",
    "LOW_MEMORY",
    "DISK_FULL",
    "DATABASE_UNAVAILABLE",
  ],
});

const listDoc = routeDoc({
  access: "team",
  operationId: "listBrowserSessions",
  summary: "List the team's browser sessions",
  tags: ["Browser sessions"],
  query: listBrowsersSchema,
  response: { description: "The sessions, newest first (100 at most).", schema: browserListSchema },
  errors: ["DATABASE_UNAVAILABLE"],
});

const executeDoc = routeDoc({
  access: "team",
  operationId: "executeBrowserSessionCode",
  session: { kind: "browser", param: "id" },
  summary: "Run code in a browser session",
  description:
    "As interact's code mode; bash (agent-browser) is the default language, as in Firecrawl. " +
    "Calls on one session run one at a time, in order; a few may wait (429 `TOO_MANY_CALLS` " +
    "past that), and a call's timeout counts from its arrival.",
  tags: ["Browser sessions"],
  params,
  body: executeBrowserSchema,
  response: { description: "What the run printed and returned.", schema: interactResponseSchema },
  errors: [...SESSION_ERRORS, "SESSION_NOT_FOUND", "TOO_MANY_CALLS", "SANDBOX_UNAVAILABLE"],
});

const deleteDoc = routeDoc({
  access: "team",
  operationId: "deleteBrowserSession",
  session: { kind: "browser", param: "id" },
  summary: "Stop a browser session",
  tags: ["Browser sessions"],
  params,
  response: { description: "The session is gone; what it was billed.", schema: stopResponseSchema },
  errors: [...SESSION_ERRORS, "SESSION_NOT_FOUND"],
});

/** Firecrawl's standalone browser sessions: create, execute, list, delete. */
export const browserRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (
  app,
  { services },
) => {
  const base = (req: Parameters<typeof publicBaseUrl>[1]) =>
    publicBaseUrl(services.config.publicUrl, req);

  app.post("/v2/browser", createDoc, async (req) => {
    return services.browsers.create(req.teamId, req.body, base(req), req.apiKeyId);
  });

  app.get("/v2/browser", listDoc, async (req) => {
    return services.browsers.list(req.teamId, req.query.status, base(req));
  });

  app.post("/v2/browser/:id/execute", executeDoc, async (req, reply) => {
    return whileClientWaits(req, reply, (signal) =>
      services.browsers.execute(req.params.id, req.teamId, req.body, base(req), signal),
    );
  });

  app.delete("/v2/browser/:id", deleteDoc, async (req) => {
    return services.browsers.stop(req.params.id, req.teamId);
  });
};
