import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError } from "../../errors/app-error.js";
import { routeDoc } from "../../openapi/route-doc.js";
import { NOT_FOUND_PAGE, renderViewerPage } from "../../liveview/page/render.js";
import type { Services } from "../../services.js";
import { PATHS } from "../../urls/public-urls.js";
import { pageElsewhere, upgradeElsewhere, upgradeProof } from "../forward.js";
import { rejectUpgrade } from "../upgrade.js";

/** The tokens that open a live view: the read-only one and the interactive one. */
const VIEWER_TOKENS = ["view", "control"] as const;

/** `/live/<token>/ws`: the viewer's WebSocket. */
const WS_PATH = /^\/live\/([^/]+)\/ws$/;

const html = ["text/html"];

const liveViewDoc = routeDoc({
  access: "public",
  operationId: "getLiveView",
  summary: "A session's live view page",
  description:
    "The page behind `liveViewUrl` (read-only) and `interactiveLiveViewUrl` (forwards mouse, " +
    "keyboard and paste). It streams the session's current tab over the WebSocket " +
    "`/live/{token}/ws`. The token is its only key, and dies with the session.",
  tags: ["Live view"],
  params: z.object({ token: z.string().describe("From liveViewUrl or interactiveLiveViewUrl.") }),
  response: { description: "The viewer page.", contentTypes: html },
  otherResponses: { 404: { description: "Unknown or ended session.", contentTypes: html } },
});

/**
 * The live-view page at `/live/<token>` and its WebSocket. The token alone says which session
 * and whether the viewer may control it; an unknown one gets a plain 404 (page or upgrade).
 */
export const liveViewRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (
  app,
  { services },
) => {
  app.get(`${PATHS.live}:token`, liveViewDoc, async (req, reply) => {
    const grant = services.index.byToken(req.params.token, VIEWER_TOKENS);
    if (!grant) {
      if (await pageElsewhere(services.forwarding, req, reply, req.params.token, VIEWER_TOKENS)) {
        return reply;
      }
      return reply
        .status(404)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .send(NOT_FOUND_PAGE);
    }
    const page = renderViewerPage(grant.use === "control" ? "control" : "view");
    return reply.headers(page.headers).send(page.html);
  });

  app.upgrades.add(PATHS.live, (req, socket, head, url) => {
    const fromNode = upgradeProof(services.forwarding, req, socket);
    if (fromNode === false) return;
    const token = WS_PATH.exec(url.pathname)?.[1];
    const found = token ? services.index.byToken(token, VIEWER_TOKENS) : undefined;
    if (token && !found) {
      // Perhaps another node's session.
      const notFound = () => rejectUpgrade(socket, new AppError("NOT_FOUND", "Not Found"));
      return upgradeElsewhere(
        services.forwarding,
        fromNode,
        { req, socket, head },
        token,
        VIEWER_TOKENS,
        notFound,
      );
    }
    const session = found?.acquired.session;
    const result = session
      ? services.liveview.connect(
          {
            sessionId: session.id,
            teamId: session.teamId,
            mode: found.use === "control" ? "control" : "view",
            // Input in an interactive live view counts as activity for the session's idle timer.
            onInput: () => session.touch(),
          },
          url.searchParams,
          req,
          socket,
          head,
        )
      : "not-found";
    if (result === "not-found") rejectUpgrade(socket, new AppError("NOT_FOUND", "Not Found"));
    else if (result !== "accepted") rejectUpgrade(socket, tooManyViewers(result));
  });
};

/** When a viewer refused for being one too many may try again. */
const VIEWER_RETRY_AFTER_SECONDS = 5;

function tooManyViewers({ tooMany, limit }: { tooMany: "session" | "team"; limit: number }) {
  const message =
    tooMany === "session"
      ? `This session's live view already has ${limit} viewers, the most it accepts. Close one and retry.`
      : `Your team already has ${limit} live view viewers open over its sessions, the most it may (TEAM_MAX_LIVE_VIEWERS). Close one and retry.`;
  return new AppError(
    "TOO_MANY_CONNECTIONS",
    message,
    { limit, scope: tooMany },
    { retryAfterSeconds: VIEWER_RETRY_AFTER_SECONDS },
  );
}
