import type { LiveDetails } from "../sessions/whereabouts.js";
import type { NodeDirectory } from "./router.js";
import { PROOF_HEADER, type NodeProof } from "./proof.js";

/** How long a listing waits for another node's details before showing its sessions without. */
const DETAILS_TIMEOUT_MS = 2_000;

/**
 * Asks the node holding sessions for their live details (tokens, activity), proving this node
 * is one of the cluster. A node that does not answer in time leaves its sessions without them.
 */
export function detailsFromPeers(
  nodes: NodeDirectory,
  proof: NodeProof,
  path: string,
): (nodeId: string, ids: string[]) => Promise<LiveDetails[]> {
  return async (nodeId, ids) => {
    const base = await nodes.urlOf(nodeId);
    if (!base || ids.length === 0) return [];
    const url = `${path}?ids=${ids.map(encodeURIComponent).join(",")}`;
    const res = await fetch(base + url, {
      headers: { [PROOF_HEADER]: proof.sign("GET", url) },
      signal: AbortSignal.timeout(DETAILS_TIMEOUT_MS),
    });
    if (!res.ok) return [];
    const body = (await res.json()) as { sessions?: LiveDetails[] };
    return body.sessions ?? [];
  };
}
