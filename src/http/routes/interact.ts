import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import {
  interactRequestSchema,
  interactResponseSchema,
  jobIdSchema,
  stopResponseSchema,
} from "../../interact/request.js";
import { routeDoc } from "../../openapi/route-doc.js";
import { downloadListSchema } from "../../downloads/request.js";
import type { Services } from "../../services.js";
import { whileClientWaits } from "../client-gone.js";
import { SESSION_ERRORS } from "../session-errors.js";
import { publicBaseUrl } from "../../urls/public-urls.js";

const params = z.object({
  jobId: jobIdSchema.describe("The scrape's id: data.metadata.scrapeId of its response."),
});

const interactDoc = routeDoc({
  access: "team",
  operationId: "interactWithScrapeBrowserSession",
  session: { kind: "interact", param: "jobId", creates: true },
  summary: "Run code or a prompt in the scrape's browser session",
  description:
    "The first call creates a live browser session at the scrape's page state; later calls " +
    "reuse it. Failures inside the code are a 200 with `success: false`; a 5xx means the code " +
    "did not run, so a retry is safe. Calls on one session run one at a time, in order; a few " +
    "may wait (429 `TOO_MANY_CALLS` past that), and a call's timeout counts from its arrival.",
  tags: ["Interact"],
  params,
  body: interactRequestSchema,
  response: { description: "What the run printed and returned.", schema: interactResponseSchema },
  errors: [
    "PAYMENT_REQUIRED",
    ...SESSION_ERRORS,
    "JOB_NOT_FOUND",
    "REPLAY_CONTEXT_UNAVAILABLE",
    "PROFILE_IN_USE",
    "TOO_MANY_SESSIONS",
    "TOO_MANY_CALLS",
    "BROWSER_FAILED",
    "MODEL_FAILED",
    "BROWSER_UNAVAILABLE",
    "SANDBOX_UNAVAILABLE",
    "MODEL_NOT_CONFIGURED",
    "SHUTTING_DOWN",
    "LOW_MEMORY",
    "DISK_FULL",
  ],
});

const stopDoc = routeDoc({
  access: "team",
  operationId: "stopScrapeBrowserSession",
  session: { kind: "interact", param: "jobId" },
  summary: "Stop the scrape's browser session",
  description: "Frees everything the session had. A second DELETE answers 410.",
  tags: ["Interact"],
  params,
  response: { description: "The session is gone; what it was billed.", schema: stopResponseSchema },
  errors: [...SESSION_ERRORS, "JOB_NOT_FOUND", "SESSION_NOT_FOUND"],
});

const filesDoc = routeDoc({
  access: "team",
  operationId: "listScrapeBrowserSessionFiles",
  session: { kind: "interact", param: "jobId" },
  summary: "Files the scrape's browser session downloaded",
  description:
    "Every file the session's browser downloaded, while it lives and after it ended, for " +
    "RECORDING_RETENTION_DAYS. A download past SESSION_DOWNLOADS_MB is cancelled in the " +
    "browser and listed as failed.",
  tags: ["Interact"],
  params,
  response: { description: "The session's files, oldest first.", schema: downloadListSchema },
  errors: [...SESSION_ERRORS, "SESSION_NOT_FOUND"],
});

/** POST and DELETE /v2/scrape/{jobId}/interact, and the files its session downloaded. */
export const interactRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (
  app,
  { services },
) => {
  app.post("/v2/scrape/:jobId/interact", interactDoc, async (req, reply) => {
    const baseUrl = publicBaseUrl(services.config.publicUrl, req);
    return whileClientWaits(req, reply, (signal) =>
      services.interact.interact(
        req.params.jobId,
        req.teamId,
        req.body,
        baseUrl,
        signal,
        req.apiKeyId,
      ),
    );
  });

  app.delete("/v2/scrape/:jobId/interact", stopDoc, async (req) => {
    return services.interact.stop(req.params.jobId, req.teamId);
  });

  app.get("/v2/scrape/:jobId/interact/files", filesDoc, async (req) => {
    const baseUrl = publicBaseUrl(services.config.publicUrl, req);
    return services.downloads.list(req.params.jobId, "interact", req.teamId, baseUrl);
  });
};
