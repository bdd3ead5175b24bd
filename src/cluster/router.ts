import type { SessionIndex, TokenUse } from "../sessions/session-index.js";
import type { SessionRegistry } from "../sessions/registry.js";

/** The other nodes, as far as forwarding needs them (the membership answers). */
export interface NodeDirectory {
  /** The base URL of `nodeId` while it is a live member; undefined once it is not. */
  urlOf(nodeId: string): Promise<string | undefined>;
  /** The live member other than this node with the most free room that takes new sessions. */
  roomiest():
    { id: string; url: string } | undefined | Promise<{ id: string; url: string } | undefined>;
}

/** Where a request is answered: here, or by the node at `url`. */
export type Route = { here: true } | { here: false; nodeId: string; url: string };

const HERE: Route = { here: true };
/** Owners remembered at most; past it the oldest is forgotten first. */
const MAX_OWNERS = 10_000;

export interface SessionRouterDeps {
  index: SessionIndex;
  registry: Pick<SessionRegistry, "get">;
  nodes: NodeDirectory;
  /** Whether a new session may be made here now: room under the cap, not draining, memory. */
  roomHere(): boolean;
  /** The node holding the live session whose token this is (of these uses), if any does. */
  ownerOfToken(token: string, uses: readonly TokenUse[]): Promise<string | undefined>;
}

/**
 * Decides which node answers a request that names a session: the node holding it, whichever
 * node the request reached. A session held here, or being made here, is answered here; one
 * that a live member holds goes to that member; a new session is made here while there is room,
 * else on the member with the most. Anything else (an ended session, a node that stopped
 * answering) is answered here, from the shared record.
 */
export class SessionRouter {
  /**
   * The node holding each live session seen held elsewhere, by key: a session never moves, and
   * its owner answers for it even once it ends, so only an owner that stops answering makes a
   * key be looked up again (forget).
   */
  private readonly owners = new Map<string, string>();

  constructor(private readonly deps: SessionRouterDeps) {}

  /** For a request naming the session bound to `key` (a scrape id or a session id). */
  async forKey(key: string, opts: { creates: boolean }): Promise<Route> {
    const { index } = this.deps;
    if (index.peek(key) || index.isCreating(key)) return HERE;
    const known = this.owners.get(key);
    if (known) return this.to(known);
    const record = await this.deps.registry.get(key);
    if (!record) return opts.creates ? this.forNew() : HERE;
    if (record.status === "destroyed" || record.nodeId === index.nodeId) return HERE;
    this.owners.set(key, record.nodeId);
    if (this.owners.size > MAX_OWNERS) this.owners.delete(this.owners.keys().next().value!);
    return this.to(record.nodeId);
  }

  /** The owner of `key` did not answer: ask the shared record again next time. */
  forget(key: string): void {
    this.owners.delete(key);
  }

  /** For a request that makes a new session. */
  async forNew(): Promise<Route> {
    if (this.deps.roomHere()) return HERE;
    const peer = await this.deps.nodes.roomiest();
    return peer ? { here: false, nodeId: peer.id, url: peer.url } : HERE;
  }

  /** For a WebSocket or page that carries one of a session's tokens. */
  async forToken(token: string, uses: readonly TokenUse[]): Promise<Route> {
    if (this.deps.index.byToken(token, uses)) return HERE;
    const owner = await this.deps.ownerOfToken(token, uses);
    return owner && owner !== this.deps.index.nodeId ? this.to(owner) : HERE;
  }

  private async to(nodeId: string): Promise<Route> {
    const url = await this.deps.nodes.urlOf(nodeId);
    return url ? { here: false, nodeId, url } : HERE;
  }
}
