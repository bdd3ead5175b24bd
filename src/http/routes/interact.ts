import type { FastifyPluginAsync } from "fastify";
import { AppError, MESSAGES } from "../../errors/app-error.js";
import { interactRequestSchema, jobIdSchema } from "../../interact/request.js";
import type { Services } from "../../services.js";
import { parseBody } from "../validate.js";
import { publicBaseUrl } from "../../urls/public-urls.js";

type Params = { Params: { jobId: string } };

function jobId(raw: string): string {
  if (!jobIdSchema.safeParse(raw).success) throw new AppError("BAD_REQUEST", MESSAGES.invalidJobId);
  return raw.toLowerCase();
}

/** POST and DELETE /v2/scrape/{jobId}/interact. */
export const interactRoutes: FastifyPluginAsync<{ services: Services }> = async (
  app,
  { services },
) => {
  app.post<Params>("/v2/scrape/:jobId/interact", async (req) => {
    const id = jobId(req.params.jobId);
    const body = parseBody(interactRequestSchema, req.body);
    const baseUrl = publicBaseUrl(services.config.publicUrl, req);
    return services.interact.interact(id, req.teamId, body, baseUrl);
  });

  app.delete<Params>("/v2/scrape/:jobId/interact", async (req) => {
    return services.interact.stop(jobId(req.params.jobId), req.teamId);
  });
};
