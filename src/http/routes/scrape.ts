import type { FastifyPluginAsync } from "fastify";
import type { Services } from "../../services.js";
import { scrapeRequestSchema } from "../../scrape/request.js";
import { publicBaseUrl } from "../../urls/public-urls.js";
import { parseBody } from "../validate.js";

/** POST /v2/scrape: validate, scrape, answer. */
export const scrapeRoutes: FastifyPluginAsync<{ services: Services }> = async (
  app,
  { services },
) => {
  app.post("/v2/scrape", async (req, reply) => {
    const body = parseBody(scrapeRequestSchema, req.body);
    // The response closing before we wrote it means the client left: stop the browser work.
    const abort = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableEnded) abort.abort();
    };
    reply.raw.once("close", onClose);
    try {
      const data = await services.scrapes.scrape(req.teamId, body, {
        signal: abort.signal,
        baseUrl: publicBaseUrl(services.config.publicUrl, req),
      });
      return { success: true, data };
    } catch (err) {
      if (!abort.signal.aborted) throw err;
      req.log.info("client closed the connection; scrape stopped");
      return reply.hijack(); // nobody is left to answer
    } finally {
      reply.raw.off("close", onClose);
    }
  });
};
