import type { FastifyPluginAsync } from "fastify";
import { AppError, MESSAGES } from "../../errors/app-error.js";
import {
  createBrowserSchema,
  executeBrowserSchema,
  listBrowsersSchema,
} from "../../browser-sessions/request.js";
import { jobIdSchema } from "../../interact/request.js";
import type { Services } from "../../services.js";
import { publicBaseUrl } from "../../urls/public-urls.js";
import { parseBody } from "../validate.js";

type Params = { Params: { id: string } };

function sessionId(raw: string): string {
  if (!jobIdSchema.safeParse(raw).success) {
    throw new AppError("BAD_REQUEST", MESSAGES.invalidSessionId);
  }
  return raw.toLowerCase();
}

/** Firecrawl's standalone browser sessions: create, execute, list, delete. */
export const browserRoutes: FastifyPluginAsync<{ services: Services }> = async (
  app,
  { services },
) => {
  const base = (req: Parameters<typeof publicBaseUrl>[1]) =>
    publicBaseUrl(services.config.publicUrl, req);

  app.post("/v2/browser", async (req) => {
    const body = parseBody(createBrowserSchema, req.body ?? {});
    return services.browsers.create(req.teamId, body, base(req));
  });

  app.get("/v2/browser", async (req) => {
    const { status } = parseBody(listBrowsersSchema, req.query);
    return services.browsers.list(req.teamId, status, base(req));
  });

  app.post<Params>("/v2/browser/:id/execute", async (req) => {
    const id = sessionId(req.params.id);
    const body = parseBody(executeBrowserSchema, req.body);
    return services.browsers.execute(id, req.teamId, body, base(req));
  });

  app.delete<Params>("/v2/browser/:id", async (req) => {
    return services.browsers.stop(sessionId(req.params.id), req.teamId);
  });
};
