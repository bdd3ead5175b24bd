import type { NodeRecord, NodeRepository } from "../store/repositories.js";
import type { Logger } from "../log/logger.js";

/** A live peer as this node last saw it, with the room it has for more sessions. */
export interface Peer extends NodeRecord {
  free: number;
}

export interface MembershipOptions {
  nodes: NodeRepository;
  nodeId: string;
  /** Where the other nodes reach this one (NODE_URL). */
  url: string;
  /** Sessions this node may hold at once (MAX_BROWSER_SESSIONS). */
  capacity: number;
  /** A node whose heartbeat is older than this is lost; this one heartbeats every third of it. */
  lostMs: number;
  /** Sessions alive or being made here now. */
  live: () => number;
  log: Pick<Logger, "info" | "warn">;
  /** This node declared `nodeId` lost (no other did): its sessions are to be ended. */
  onLost: (nodeId: string) => Promise<unknown>;
  /**
   * Sessions of nodes declared lost at or before `lostBefore` that are still live on record (the
   * node that declared one lost stopped before ending them) are to be ended.
   */
  onLostLeftovers: (lostBefore: number) => Promise<unknown>;
  /** Another node declared this one lost: what it still holds is to be ended. */
  onSelfLost: () => Promise<unknown>;
}

/**
 * This node's place among the nodes sharing one database: it publishes itself (where it is
 * reached, its room, whether it drains) every third of NODE_LOST_SECONDS, keeps the others'
 * rows for routing, and declares lost any node whose heartbeat is older than NODE_LOST_SECONDS
 * (the row change decides, so of all the nodes noticing at once exactly one ends its sessions).
 */
export class Membership {
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private cache: NodeRecord[] = [];
  private draining = false;
  private ticking: Promise<void> | undefined;
  private closed = false;
  /** The latest time this node has heartbeat at: its heartbeats never go back in time. */
  private lastNow = 0;
  private readonly drainListeners: (() => unknown)[] = [];

  constructor(private readonly opts: MembershipOptions) {}

  /** Publishes this node as started (not lost, not draining) and starts the heartbeat. */
  async start(): Promise<void> {
    await this.publish(this.now(), true);
    await this.refresh();
    this.timer = setInterval(() => void this.tick(), Math.max(1, this.opts.lostMs / 3));
    this.timer.unref();
  }

  /** Called when someone sets this node's draining flag in the table (the admin command). */
  onDrainRequested(cb: () => unknown): void {
    this.drainListeners.push(cb);
  }

  /** Whether this node drains: no new session starts here. */
  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * One heartbeat as the timer would run it at `now`: publish, notice whether this node was
   * declared lost (then end what it holds and rejoin) or asked to drain, refresh the peers,
   * and declare lost every node silent for NODE_LOST_SECONDS. Never runs twice at once.
   */
  tick(now = Date.now()): Promise<void> {
    this.ticking ??= this.beat(this.now(now))
      .catch((err: unknown) => this.opts.log.warn({ err }, "cluster heartbeat failed"))
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  /** Live, fresh nodes other than this one, each with its free room. */
  peers(now = this.now()): Peer[] {
    const fresh = now - this.opts.lostMs;
    return this.cache
      .filter((n) => n.id !== this.opts.nodeId && n.lostAt === null && n.heartbeatAt >= fresh)
      .map((n) => ({ ...n, free: Math.max(0, n.capacity - n.live) }));
  }

  /** The peer with the most free room that is not draining, if any has room. */
  roomiest(now = this.now()): Peer | undefined {
    let best: Peer | undefined;
    for (const p of this.peers(now)) {
      if (!p.draining && p.free > 0 && (!best || p.free > best.free)) best = p;
    }
    return best;
  }

  /** Where node `nodeId` is reached: from the last refresh, else from the table. */
  async urlOf(nodeId: string): Promise<string | undefined> {
    const cached = this.cache.find((n) => n.id === nodeId);
    if (cached) return cached.url;
    return (await this.opts.nodes.get(nodeId))?.url;
  }

  /** Marks this node draining and tells the others at once (the load balancer asks readiness). */
  async drain(): Promise<void> {
    this.draining = true;
    await this.publish(this.now(), false);
  }

  /**
   * Stops the heartbeat and leaves: the row is marked gone at once (its sessions have ended), so
   * no work is routed here and no other node has to find out by waiting. Starting again rejoins.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.ticking;
    await this.opts.nodes
      .markLost(this.opts.nodeId, Number.MAX_SAFE_INTEGER, this.now())
      .catch((err: unknown) => this.opts.log.warn({ err }, "could not leave the nodes table"));
  }

  private async beat(now: number): Promise<void> {
    if (this.closed) return;
    await this.publish(now, false);
    await this.refresh();
    const cutoff = now - this.opts.lostMs;
    for (const node of this.cache) {
      if (node.id === this.opts.nodeId || node.lostAt !== null || node.heartbeatAt >= cutoff) {
        continue;
      }
      if (!(await this.opts.nodes.markLost(node.id, cutoff, now))) continue;
      this.opts.log.warn(
        { node: node.id, lastHeartbeat: new Date(node.heartbeatAt).toISOString() },
        "node lost: its heartbeat stopped; its sessions end",
      );
      node.lostAt = now;
      await this.opts.onLost(node.id);
    }
    // A node declared lost a full period ago has had its sessions ended by whoever declared it,
    // unless that node stopped first: then the live nodes finish the job (one statement decides
    // which of them ends each session).
    await this.opts.onLostLeftovers(cutoff);
  }

  /** Writes this node's row; handles being found lost, or asked to drain, on the way. */
  private async publish(now: number, start: boolean): Promise<void> {
    const announce = (asStart: boolean) =>
      this.opts.nodes.publish(
        {
          id: this.opts.nodeId,
          url: this.opts.url,
          capacity: this.opts.capacity,
          live: this.opts.live(),
          draining: this.draining,
          startedAt: this.startedAt,
          heartbeatAt: now,
        },
        asStart,
      );
    const res = await announce(start);
    if (res.lost) {
      this.opts.log.warn({}, "this node was declared lost by another: ending what it holds");
      await this.opts.onSelfLost();
      await announce(true);
    } else if (res.draining && !this.draining) {
      this.draining = true;
      this.opts.log.info({}, "draining: asked through the nodes table");
      for (const cb of this.drainListeners) cb();
    }
  }

  /** The clock now, or `at` if later; never earlier than a time this node heartbeat at. */
  private now(at = Date.now()): number {
    this.lastNow = Math.max(this.lastNow, at);
    return this.lastNow;
  }

  private async refresh(): Promise<void> {
    this.cache = await this.opts.nodes.list();
  }
}
