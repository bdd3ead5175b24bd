import type { FastifyPluginAsync } from "fastify";
import type { Services } from "../../services.js";
import { scrapeRequestSchema } from "../../scrape/request.js";
import { parseBody } from "../validate.js";

/** POST /v2/scrape: validate, scrape, answer. */
export const scrapeRoutes: FastifyPluginAsync<{ services: Services }> = async (
  app,
  { services },
) => {
  app.post("/v2/scrape", async (req) => {
    const body = parseBody(scrapeRequestSchema, req.body);
    const abort = new AbortController();
    req.raw.once("close", () => {
      if (!req.raw.complete || req.raw.destroyed) abort.abort();
    });
    const data = await services.scrapes.scrape(req.teamId, body, {
      signal: abort.signal,
      baseUrl: publicBaseUrl(services.config.publicUrl, req),
    });
    return { success: true, data };
  });
};

/** The URL clients reach us at: PUBLIC_URL when set, else what the request says. */
export function publicBaseUrl(
  configured: string | undefined,
  req: { protocol: string; host: string },
): string {
  return configured ?? `${req.protocol}://${req.host}`;
}
