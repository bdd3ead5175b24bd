import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { Readable } from "node:stream";
import { z } from "zod";
import { routeDoc } from "../../openapi/route-doc.js";
import type { Services } from "../../services.js";
import { AppError } from "../../errors/app-error.js";
import { PATHS } from "../../urls/public-urls.js";
import { downloadIdSchema } from "../../downloads/request.js";
import { attachmentHeader } from "../../downloads/names.js";

const fileDoc = routeDoc({
  access: "public",
  operationId: "getFile",
  summary: "A screenshot or PDF a scrape produced, or a segment of a recording",
  description:
    "Its unguessable name is its only key: no API key is asked for, so it opens in a browser.",
  tags: ["Files"],
  params: z.object({
    name: z.string().describe("The random name in the URL the scrape returned."),
  }),
  response: {
    description: "The file.",
    contentTypes: ["image/png", "image/jpeg", "application/pdf", "video/mp2t"],
  },
  // On Postgres the file is read from the database, which may be down for a moment.
  errors: ["NOT_FOUND", "DATABASE_UNAVAILABLE"],
});

const downloadDoc = routeDoc({
  access: "public",
  operationId: "getDownload",
  summary: "A file a session's browser downloaded",
  description:
    "The bytes exactly as downloaded, as an attachment under the page's name. Its unguessable " +
    "id is its only key: no API key is asked for. Gone once the session's files have outlived " +
    "it for RECORDING_RETENTION_DAYS.",
  tags: ["Files"],
  params: z.object({ id: downloadIdSchema }),
  response: { description: "The file.", contentTypes: ["*/*"] },
  errors: ["BAD_REQUEST", "NOT_FOUND", "DATABASE_UNAVAILABLE"],
});

/** Serves stored screenshots and downloads at the URLs responses hand out. */
export const fileRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (
  app,
  { services },
) => {
  app.get(`${PATHS.files}:name`, fileDoc, async (req, reply) => {
    // A download's bytes are served only with its name and type (below).
    const file = req.params.name.endsWith(".bin")
      ? undefined
      : await services.files.read(req.params.name);
    if (!file) throw new AppError("NOT_FOUND", "File not found.");
    return reply
      .header("content-type", file.contentType)
      .header("cache-control", "private, max-age=86400")
      .header("content-length", file.size)
      .send(req.method === "HEAD" ? emptyBody(file.body) : file.body);
  });

  app.get(`${PATHS.downloads}:id`, downloadDoc, async (req, reply) => {
    const found = await services.downloads.open(req.params.id);
    if (!found) throw new AppError("NOT_FOUND", "File not found.");
    const { record, file } = found;
    return reply
      .header("content-type", record.mimeType)
      .header("content-disposition", attachmentHeader(record.name))
      .header("x-content-type-options", "nosniff")
      .header("cache-control", "private, max-age=86400")
      .header("content-length", file.size)
      .send(req.method === "HEAD" ? emptyBody(file.body) : file.body);
  });
};

/** A HEAD answer has no body: the file is left unread, its length still in the headers. */
function emptyBody(body: Readable): Readable {
  body.destroy();
  return Readable.from([]);
}
