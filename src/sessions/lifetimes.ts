import type { LiveSession, EndReason } from "./live-session.js";
import type { SessionRegistry } from "./registry.js";
import type { SessionIndex } from "./session-index.js";
import type { SessionActivity, SessionRecord } from "../store/repositories.js";
import type { WriteRetry } from "../store/write-retry.js";
import type { Logger } from "../log/logger.js";
import { activityOf, type SessionHistory } from "./history.js";

/** Why a session ended, including the one only a restart can find out. */
export type SessionEndReason = EndReason | "server_restarted";

/**
 * Emitted exactly once per session, whatever ended it (a stop, its TTL, idling, a browser
 * crash, shutdown, or a restart that finds it dead): the one event billing hangs on.
 */
export interface SessionEnded {
  sessionId: string;
  scrapeId: string;
  teamId: string;
  reason: SessionEndReason;
  startedAt: number;
  endedAt: number;
  usedPrompt: boolean;
  /** Its TTL: what it could have lived at most (billing never counts past it). */
  ttlMs: number;
}

/** The end a session's record tells (an ended row, or one a restart has just ended). */
export function endedFromRecord(r: SessionRecord, defaultTtlMs: number): SessionEnded {
  return {
    sessionId: r.id,
    scrapeId: r.scrapeId,
    teamId: r.teamId,
    reason: (r.destroyReason ?? "stopped") as SessionEndReason,
    startedAt: r.createdAt,
    endedAt: r.destroyedAt ?? r.createdAt,
    usedPrompt: r.usedPrompt,
    ttlMs: r.ttlMs ?? defaultTtlMs,
  };
}

export interface LifetimesOptions {
  registry: SessionRegistry;
  /** The live sessions to watch; an ending session leaves it at once. */
  index: SessionIndex;
  /** The TTL of sessions whose record does not keep their own (older rows). */
  ttlMs: number;
  log: Pick<Logger, "warn">;
  /** Where an end the database could not take waits until it can. */
  retry: WriteRetry;
  /** Keeps what sessions do in the record; written with the heartbeat. */
  history?: SessionHistory;
  /**
   * How often the registry is told this node's sessions are alive (15 s by default): what a
   * session ended for a lost node is billed up to, so among nodes at least as often as they
   * heartbeat themselves.
   */
  heartbeatMs?: number;
}

/** How often a node tells the registry its sessions are still alive, by default. */
const HEARTBEAT_MS = 15_000;

/**
 * Ends sessions: TTL, idle TTL, a crashed browser, a stop and shutdown all go through end(),
 * which frees the session's processes and emits one SessionEnded, decided by the registry (the
 * row changes once, so a session is never reported twice, even across nodes and restarts).
 */
export class SessionLifetimes {
  private readonly ending = new Map<string, Promise<SessionEnded | undefined>>();
  private readonly endedListeners: ((e: SessionEnded) => unknown)[] = [];
  private readonly sweeper: NodeJS.Timeout;
  private lastHeartbeat = Date.now();

  constructor(private readonly opts: LifetimesOptions) {
    this.sweeper = setInterval(() => this.sweep(), 1_000);
    this.sweeper.unref();
  }

  /**
   * Called once per ended session. What `cb` returns is waited for before the end counts as
   * recorded: a stop answers, and shutdown goes on, only once a listener's work (billing) is done.
   */
  onEnded(cb: (e: SessionEnded) => unknown): void {
    this.endedListeners.push(cb);
  }

  /** Starts watching a new session (already in the index): its browser dying under it. */
  track(s: LiveSession): void {
    const crashed = () => void this.end(s, "browser_crashed");
    s.resources.browser.on("disconnected", crashed);
    void s.resources.proc.exited.then(crashed);
  }

  /**
   * Ends a session for `reason` (the first reason wins) and frees its processes. Resolves with
   * the event, or undefined when another call or node had ended it already. When the database
   * cannot take the end now, it resolves with the event all the same (`endRecorded()` says
   * so) and the end is recorded, with this end time, as soon as the database takes it.
   */
  end(s: LiveSession, reason: EndReason): Promise<SessionEnded | undefined> {
    const pending = this.ending.get(s.id);
    if (pending) return pending;
    if (!s.alive) return Promise.resolve(undefined);
    const endedAt = Date.now();
    // Read while its browser still shows it: the address is gone once it closes.
    const activity = activityOf(s);
    const run = (async () => {
      const closing = s.close(reason);
      // Forgotten under every key before its processes are freed: nothing finds it half-gone.
      this.opts.index.remove(s);
      if (reason === "browser_crashed")
        this.opts.log.warn({ sessionId: s.id }, "session browser crashed");
      await closing.catch(() => {});
      this.opts.history?.forget(s.id);
      return this.record(s, reason, endedAt, activity);
    })();
    this.ending.set(s.id, run);
    void run.finally(() => this.ending.delete(s.id));
    return run;
  }

  /** Settles once an end of session `sessionId` under way here (if any) is done. */
  async endDone(sessionId: string): Promise<void> {
    await this.ending.get(sessionId)?.catch(() => undefined);
  }

  /** False while this session's end waits for the database (its event is not emitted yet). */
  endRecorded(sessionId: string): boolean {
    return !this.opts.retry.has(endKey(sessionId));
  }

  /**
   * Records the ends waiting for the database now, if it takes them: before a team's sessions
   * are counted against its limit, so a session that ended during an outage holds no slot.
   */
  recordPendingEnds(): Promise<void> {
    return this.opts.retry.size > 0 ? this.opts.retry.flush() : Promise.resolve();
  }

  /**
   * Ends what an earlier run of this node left behind (its browsers died with it), billing up
   * to the last time they were seen alive.
   */
  async recoverLeftovers(): Promise<number> {
    return this.report(await this.opts.registry.endLeftovers("server_restarted"));
  }

  /**
   * Ends the sessions of another node this one declared lost, billing each once up to when it
   * was last seen alive; returns how many. Rows another call ended already are not reported.
   */
  async endLostNode(nodeId: string): Promise<number> {
    return this.report(await this.opts.registry.endOfNode(nodeId, "node_lost"));
  }

  /**
   * Ends what nodes declared lost at or before `lostBefore` still have on record as live: the
   * node that declared one lost may itself have stopped before ending its sessions.
   */
  async endLeftOfLostNodes(lostBefore: number): Promise<number> {
    return this.report(await this.opts.registry.endOfLostNodes(lostBefore, "node_lost"));
  }

  /** Tells the listeners of sessions ended on record only (no browser here to close). */
  private async report(ended: SessionRecord[]): Promise<number> {
    for (const r of ended) await this.emit(endedFromRecord(r, this.opts.ttlMs));
    return ended.length;
  }

  /**
   * Ends every session held here because another node declared this one lost: their records
   * were ended (and billed) by that node, so nothing is reported twice.
   */
  async endAllLost(): Promise<void> {
    await Promise.all(this.opts.index.all().map((s) => this.end(s, "node_lost")));
  }

  /** Ends sessions past their lifetime or idle for too long; tells the registry the rest live. */
  sweep(now = Date.now()): void {
    const live = this.opts.index.all();
    for (const s of live) {
      const { ttlMs, idleTtlMs } = s.shape;
      if (now - s.startedAt >= ttlMs) void this.end(s, "ttl");
      else if (s.busy === 0 && now - s.lastUsedAt >= idleTtlMs) void this.end(s, "idle");
    }
    if (live.length > 0 && now - this.lastHeartbeat >= (this.opts.heartbeatMs ?? HEARTBEAT_MS)) {
      this.lastHeartbeat = now;
      // Only the sessions alive here: one that ended keeps the end it had, recorded or not.
      const alive = live.filter((s) => s.alive);
      this.opts.registry
        .heartbeat(
          now,
          alive.map((s) => s.id),
        )
        .catch((err: unknown) => {
          this.opts.log.warn({ err }, "could not record that sessions are alive");
        });
      // What they did since the last heartbeat (calls, the address on show), where it changed.
      void this.opts.history?.flush(alive);
    }
  }

  /** Ends every session (shutdown), each end recorded and its listeners done. */
  async endAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all(this.opts.index.all().map((s) => this.end(s, "shutdown")));
    await Promise.all([...this.ending.values()]);
  }

  /** Stops the timers. */
  close(): void {
    clearInterval(this.sweeper);
  }

  private async record(
    s: LiveSession,
    reason: EndReason,
    endedAt: number,
    activity: SessionActivity,
  ): Promise<SessionEnded | undefined> {
    const event: SessionEnded = {
      sessionId: s.id,
      scrapeId: s.scrapeId,
      teamId: s.teamId,
      reason,
      startedAt: s.startedAt,
      endedAt,
      usedPrompt: s.usedPrompt,
      ttlMs: s.shape.ttlMs,
    };
    let recorded: boolean | undefined;
    // The end time is fixed now; a database that is down takes it later, as it was.
    const write = async () => {
      recorded = await this.opts.registry.end(s.id, reason, endedAt, activity);
      // The shared record has it now: the index need not remember why it ended.
      this.opts.index.endRecorded(s.scrapeId);
      if (recorded) await this.emit(event);
    };
    if (!(await this.opts.retry.run(endKey(s.id), write))) return event;
    return recorded ? event : undefined;
  }

  /** Tells every listener; one that fails is logged, and never undoes the recorded end. */
  private async emit(e: SessionEnded): Promise<void> {
    await Promise.all(
      this.endedListeners.map(async (cb) => {
        try {
          await cb(e);
        } catch (err) {
          this.opts.log.warn({ err, sessionId: e.sessionId }, "a SessionEnded listener failed");
        }
      }),
    );
  }
}

/** The key an end waits under while the database cannot take it. */
function endKey(sessionId: string): string {
  return `session-end:${sessionId}`;
}
