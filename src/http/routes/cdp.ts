import type { FastifyPluginAsync } from "fastify";
import { CDP_PATH, cdpTokenOf } from "../../cdp/proxy.js";
import type { Services } from "../../services.js";
import { upgradeElsewhere, upgradeProof } from "../forward.js";
import { rejectUpgrade } from "../upgrade.js";

/**
 * `cdpUrl`'s WebSocket, `/cdp/<token>`: the token alone says which session; a refusal (unknown
 * token, one connection too many) is answered from the error table like any other.
 */
export const cdpRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  app.upgrades.add(CDP_PATH, (req, socket, head, url) => {
    const fromNode = upgradeProof(services.forwarding, req, socket);
    if (fromNode === false) return;
    const refused = services.cdp.connect(req, socket, head, url);
    if (!refused) return;
    const token = cdpTokenOf(url);
    // A token this node does not know may be another node's session.
    if (refused.code !== "NOT_FOUND" || !token) return rejectUpgrade(socket, refused);
    upgradeElsewhere(services.forwarding, fromNode, { req, socket, head }, token, ["cdp"], () =>
      rejectUpgrade(socket, refused),
    );
  });
};
