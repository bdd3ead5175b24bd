import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Services } from "../../services.js";
import { routeDoc } from "../../openapi/route-doc.js";
import { scrapeResponseSchema } from "../../scrape/document.js";
import { scrapeRequestSchema } from "../../scrape/request.js";
import { publicBaseUrl } from "../../urls/public-urls.js";

const scrapeDoc = routeDoc({
  access: "team",
  operationId: "scrapeAndExtractFromUrl",
  summary: "Scrape a URL",
  description:
    "Loads the URL in Chromium and returns Firecrawl's v2 document; `data.metadata.scrapeId` is " +
    "the id interact takes. Every field of Firecrawl's v2 scrape is accepted: implemented, " +
    "accepted with no effect, or refused with a 400 saying why (docs/scrape.md has the table). " +
    "Unknown keys are a 400.",
  tags: ["Scraping"],
  body: scrapeRequestSchema,
  response: { description: "The page, in the formats asked for.", schema: scrapeResponseSchema },
  errors: [
    "PAYMENT_REQUIRED",
    "PRIVATE_ADDRESS_BLOCKED",
    "SCRAPE_NO_CACHED_DATA",
    "SCRAPE_LOCKDOWN_CACHE_MISS",
    "SCRAPE_TIMEOUT",
    "PROFILE_IN_USE",
    "TOO_MANY_SCRAPES",
    "SCRAPE_PAGE_TOO_LARGE",
    "SCRAPE_DNS_RESOLUTION_ERROR",
    "SCRAPE_CONNECTION_FAILED",
    "SCRAPE_SSL_ERROR",
    "SCRAPE_FAILED",
    "BROWSER_UNAVAILABLE",
    "DISK_FULL",
    "DATABASE_UNAVAILABLE",
  ],
});

/** POST /v2/scrape: validate, scrape, answer. */
export const scrapeRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (
  app,
  { services },
) => {
  app.post("/v2/scrape", scrapeDoc, async (req, reply) => {
    // The response closing before we wrote it means the client left: stop the browser work.
    const abort = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableEnded) abort.abort();
    };
    reply.raw.once("close", onClose);
    try {
      const data = await services.scrapes.scrape(req.teamId, req.body, {
        signal: abort.signal,
        baseUrl: publicBaseUrl(services.config.publicUrl, req),
        apiKeyId: req.apiKeyId,
      });
      // Firecrawl's own site (an origin naming "website") reads the id at the top level too.
      const scrape_id = req.body.origin?.includes("website") ? data.metadata.scrapeId : undefined;
      return { success: true as const, data, ...(scrape_id ? { scrape_id } : {}) };
    } catch (err) {
      if (!abort.signal.aborted) throw err;
      req.log.info("client closed the connection; scrape stopped");
      return reply.hijack(); // nobody is left to answer
    } finally {
      reply.raw.off("close", onClose);
    }
  });
};
