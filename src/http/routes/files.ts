import type { FastifyPluginAsync } from "fastify";
import type { Services } from "../../services.js";
import { AppError } from "../../errors/app-error.js";
import { PATHS } from "../../urls/public-urls.js";

/** Serves stored screenshots at the URLs scrape responses hand out. */
export const fileRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  app.get<{ Params: { name: string } }>(`${PATHS.files}:name`, async (req, reply) => {
    const file = await services.files.read(req.params.name);
    if (!file) throw new AppError("NOT_FOUND", "File not found.");
    return reply
      .header("content-type", file.contentType)
      .header("cache-control", "private, max-age=86400")
      .send(file.bytes);
  });
};
