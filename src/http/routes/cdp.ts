import type { FastifyPluginAsync } from "fastify";
import { CDP_PATH } from "../../cdp/proxy.js";
import type { Services } from "../../services.js";
import { rejectUpgrade } from "../upgrade.js";

/**
 * `cdpUrl`'s WebSocket, `/cdp/<token>`: the token alone says which session; a refusal (unknown
 * token, one connection too many) is answered from the error table like any other.
 */
export const cdpRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  app.upgrades.add(CDP_PATH, (req, socket, head, url) => {
    const refused = services.cdp.connect(req, socket, head, url);
    if (refused) rejectUpgrade(socket, refused);
  });
};
