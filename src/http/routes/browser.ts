import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import {
  browserCreatedSchema,
  browserListSchema,
  browserStatusSchema,
  createBrowserSchema,
  executeBrowserSchema,
  listBrowsersSchema,
  profileParamsSchema,
  replayListSchema,
  replayParamsSchema,
  sessionIdSchema,
} from "../../browser-api/request.js";
import { interactResponseSchema, stopResponseSchema } from "../../interact/request.js";
import { downloadListSchema } from "../../downloads/request.js";
import { routeDoc } from "../../openapi/route-doc.js";
import type { Services } from "../../services.js";
import { PATHS, publicBaseUrl } from "../../urls/public-urls.js";
import { whileClientWaits } from "../client-gone.js";
import { SESSION_ERRORS, SESSION_LOOKUP_ERRORS } from "../session-errors.js";

const params = z.object({ id: sessionIdSchema.describe("The session's id, from its creation.") });

/** Where Firecrawl serves its browser sessions: /v2/browser, and /v2/interact as its alias. */
type Base = "/v2/browser" | "/v2/interact";

/** The routes' contracts under `base`; the alias's say whose alias they are. */
function docsAt(base: Base) {
  const alias = base !== "/v2/browser";
  const id = (name: string) => (alias ? `${name}ViaInteract` : name);
  const aliasOf = (method: string, path: string) =>
    alias ? ` Alias of \`${method} /v2/browser${path}\`, as in Firecrawl.` : "";
  return {
    create: routeDoc({
      access: "team",
      operationId: id("createBrowserSession"),
      session: { kind: "browser", creates: true },
      summary: alias ? "Start a browser session (alias)" : "Start a browser session",
      description:
        "A live browser session on a blank page, with the same sandbox, CDP and live views as " +
        "interact's. Unknown fields are dropped, as in Firecrawl." +
        aliasOf("POST", ""),
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
    }),
    list: routeDoc({
      access: "team",
      operationId: id("listBrowserSessions"),
      summary: alias
        ? "List the team's browser sessions (alias)"
        : "List the team's browser sessions",
      description: aliasOf("GET", "") || undefined,
      tags: ["Browser sessions"],
      query: listBrowsersSchema,
      response: {
        description: "The sessions, newest first (100 at most).",
        schema: browserListSchema,
      },
      errors: ["DATABASE_UNAVAILABLE"],
    }),
    status: routeDoc({
      access: "team",
      operationId: id("getBrowserSession"),
      session: { kind: "browser", param: "id" },
      summary: alias ? "A browser session's state (alias)" : "A browser session's state",
      description:
        "running with its URLs while it lives; stopped or failed once it has ended, with how " +
        "long it lived and what it was billed." +
        aliasOf("GET", "/{id}"),
      tags: ["Browser sessions"],
      params,
      response: { description: "Its state.", schema: browserStatusSchema },
      errors: [...SESSION_LOOKUP_ERRORS, "SESSION_NOT_FOUND"],
    }),
    execute: routeDoc({
      access: "team",
      operationId: id("executeBrowserSessionCode"),
      session: { kind: "browser", param: "id" },
      summary: alias ? "Run code in a browser session (alias)" : "Run code in a browser session",
      description:
        "As interact's code mode; bash (agent-browser) is the default language, as in Firecrawl. " +
        "Calls on one session run one at a time, in order; a few may wait (429 `TOO_MANY_CALLS` " +
        "past that), and a call's timeout counts from its arrival." +
        aliasOf("POST", "/{id}/execute"),
      tags: ["Browser sessions"],
      params,
      body: executeBrowserSchema,
      response: {
        description: "What the run printed and returned.",
        schema: interactResponseSchema,
      },
      errors: [...SESSION_ERRORS, "SESSION_NOT_FOUND", "TOO_MANY_CALLS", "SANDBOX_UNAVAILABLE"],
    }),
    remove: routeDoc({
      access: "team",
      operationId: id("deleteBrowserSession"),
      session: { kind: "browser", param: "id" },
      summary: alias ? "Stop a browser session (alias)" : "Stop a browser session",
      description:
        "A session that had ended already answers 200 too, with its bill." +
        aliasOf("DELETE", "/{id}"),
      tags: ["Browser sessions"],
      params,
      response: {
        description: "The session is gone; what it was billed.",
        schema: stopResponseSchema,
      },
      errors: [...SESSION_ERRORS, "SESSION_NOT_FOUND"],
    }),
    files: routeDoc({
      access: "team",
      operationId: id("listBrowserSessionFiles"),
      session: { kind: "browser", param: "id" },
      summary: alias
        ? "Files a browser session downloaded (alias)"
        : "Files a browser session downloaded",
      description:
        "Every file the session's browser downloaded (from code in any language, a prompt or a " +
        "CDP client), while it lives and after it ended, for RECORDING_RETENTION_DAYS. A download " +
        "past SESSION_DOWNLOADS_MB is cancelled in the browser and listed as failed." +
        aliasOf("GET", "/{id}/files"),
      tags: ["Browser sessions"],
      params,
      response: { description: "The session's files, oldest first.", schema: downloadListSchema },
      errors: [...SESSION_ERRORS, "SESSION_NOT_FOUND"],
    }),
    replay: routeDoc({
      access: "team",
      operationId: id("getBrowserSessionReplay"),
      session: { kind: "browser", param: "id" },
      summary: alias ? "A session's recording (alias)" : "A session's recording",
      description:
        "The pages of a session started with `recordSession: true`, each with its HLS " +
        "playlist's URL. While the session runs, the pages finished so far." +
        aliasOf("GET", "/{id}/replay"),
      tags: ["Browser sessions"],
      params,
      response: { description: "Its recorded pages.", schema: replayListSchema },
      errors: [...SESSION_LOOKUP_ERRORS, "SESSION_NOT_FOUND", "NOT_FOUND"],
    }),
    replayPage: routeDoc({
      access: "team",
      operationId: id("getBrowserSessionReplayPage"),
      session: { kind: "browser", param: "id" },
      summary: alias ? "One page of a session's recording (alias)" : "One page of a recording",
      description:
        "An HLS playlist (H.264 in MPEG-TS segments, VOD). Its segments' URLs are unguessable " +
        "and need no API key, so a player (hls.js, ffmpeg) fetches them as they are." +
        aliasOf("GET", "/{id}/replay/{pageId}"),
      tags: ["Browser sessions"],
      params: replayParamsSchema,
      response: { description: "The playlist.", contentTypes: ["application/vnd.apple.mpegurl"] },
      errors: [...SESSION_LOOKUP_ERRORS, "SESSION_NOT_FOUND", "NOT_FOUND"],
    }),
    deleteProfile: routeDoc({
      access: "team",
      operationId: id("deleteBrowserProfile"),
      summary: alias ? "Delete a browser profile (alias)" : "Delete a browser profile",
      description:
        "Removes one of the team's named profiles (its saved cookies and storage). Refused with " +
        "409 while a session is saving to it." +
        aliasOf("DELETE", "/profiles/{name}"),
      tags: ["Browser sessions"],
      params: profileParamsSchema,
      response: {
        description: "It is gone.",
        schema: z.object({ success: z.literal(true) }),
      },
      errors: ["BAD_REQUEST", "NOT_FOUND", "PROFILE_IN_USE", "DATABASE_UNAVAILABLE"],
    }),
  };
}

/**
 * Firecrawl's standalone browser sessions: create, execute, list, state, delete, the files a
 * session downloaded, and deleting a profile; under /v2/browser and under its alias /v2/interact.
 */
export const browserRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (
  app,
  { services },
) => {
  const base = (req: Parameters<typeof publicBaseUrl>[1]) =>
    publicBaseUrl(services.config.publicUrl, req);

  for (const at of ["/v2/browser", "/v2/interact"] as const) {
    const doc = docsAt(at);

    app.post(at, doc.create, async (req) => {
      return services.browsers.create(req.teamId, req.body, base(req), req.apiKeyId);
    });

    app.get(at, doc.list, async (req) => {
      return services.browsers.list(req.teamId, req.query.status, base(req));
    });

    app.get(`${at}/:id`, doc.status, async (req) => {
      return services.browsers.status(req.params.id, req.teamId, base(req));
    });

    app.post(`${at}/:id/execute`, doc.execute, async (req, reply) => {
      return whileClientWaits(req, reply, (signal) =>
        services.browsers.execute(req.params.id, req.teamId, req.body, base(req), signal),
      );
    });

    app.delete(`${at}/:id`, doc.remove, async (req) => {
      return services.browsers.stop(req.params.id, req.teamId);
    });

    app.get(`${at}/:id/files`, doc.files, async (req) => {
      return services.downloads.list(req.params.id, "browser", req.teamId, base(req));
    });

    // Playlist URLs are relative to the server, or absolute on PUBLIC_URL when it is set.
    const replayBase = (id: string) =>
      `${(services.config.publicUrl ?? "").replace(/\/+$/, "")}${at}/${id}/replay`;

    app.get(`${at}/:id/replay`, doc.replay, async (req, reply) => {
      const replay = await services.browsers.replay(
        req.params.id,
        req.teamId,
        replayBase(req.params.id),
      );
      return reply.header("cache-control", "no-store").send(replay);
    });

    app.get(`${at}/:id/replay/:pageId`, doc.replayPage, async (req, reply) => {
      const playlist = await services.browsers.replayPage(
        req.params.id,
        req.params.pageId,
        req.teamId,
        `${base(req)}${PATHS.files}`,
      );
      return reply
        .header("content-type", "application/vnd.apple.mpegurl")
        .header("cache-control", "no-store")
        .send(playlist);
    });

    app.delete(`${at}/profiles/:name`, doc.deleteProfile, async (req) => {
      return services.browsers.deleteProfile(req.teamId, req.params.name);
    });
  }
};
