import { createHmac, timingSafeEqual } from "node:crypto";

/** The header a node's forwarded request carries: proof that it comes from a node. */
export const PROOF_HEADER = "x-node-proof";

/** How far a proof's clock may be from ours: the nodes' clocks and the forwarding's delay. */
const MAX_SKEW_MS = 30_000;
const VERSION = "v1";
/** A node id as a proof may name it: what NODE_ID allows, without the separator. */
const NODE_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

/**
 * Proves to another node that a request comes from a node of the cluster: an HMAC-SHA256 under
 * CLUSTER_SECRET of who sends it, when, and the exact request (method, path and query). A tenant
 * never holds the secret, so it can neither make a proof nor reuse one for another request; a
 * copied proof dies within MAX_SKEW_MS.
 */
export class NodeProof {
  constructor(
    private readonly secret: string,
    /** This node's id, named in every proof it makes. */
    readonly nodeId: string,
  ) {
    if (!NODE_ID.test(nodeId)) throw new Error(`NODE_ID ${JSON.stringify(nodeId)} cannot sign`);
  }

  /** The header value for `method url` sent now. */
  sign(method: string, url: string, now = Date.now()): string {
    return `${VERSION}.${this.nodeId}.${now}.${this.mac(this.nodeId, now, method, url)}`;
  }

  /** The sending node, when `header` proves `method url`; undefined for anything else. */
  verify(header: string, method: string, url: string, now = Date.now()): string | undefined {
    const parts = header.split(".");
    if (parts.length < 4 || parts[0] !== VERSION) return undefined;
    const mac = parts.pop()!;
    const at = Number(parts.pop());
    const from = parts.slice(1).join(".");
    if (!NODE_ID.test(from) || !Number.isSafeInteger(at)) return undefined;
    if (Math.abs(now - at) > MAX_SKEW_MS) return undefined;
    const expected = Buffer.from(this.mac(from, at, method, url), "hex");
    const given = Buffer.from(mac, "hex");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return from;
  }

  private mac(from: string, at: number, method: string, url: string): string {
    return createHmac("sha256", this.secret)
      .update(`${VERSION}\n${from}\n${at}\n${method.toUpperCase()}\n${url}`)
      .digest("hex");
  }
}
