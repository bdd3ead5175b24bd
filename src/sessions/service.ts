import type { BrowserContext } from "playwright-core";
import { newToken } from "../auth/tokens.js";
import { randomUUID } from "node:crypto";
import { AppError, MESSAGES } from "../errors/app-error.js";
import {
  checkTeam,
  claimRefused,
  insufficientCredits,
  lowMemory,
  soonestFreeSlot,
  tooManySessions,
  unavailable,
} from "./errors.js";
import { checkMemory } from "../health/memory.js";
import type { ScrapeRecord, SessionKind, SessionQuery } from "../store/repositories.js";
import { LiveSession, type CallLimits, type SessionShape } from "./live-session.js";
import { TeamCallQueues } from "./call-queue.js";
import { newViewTokens } from "./session-index.js";
import type { SessionResources } from "./resources.js";
import type { OpenProfile, ProfileRequest } from "../profiles/service.js";
import type {
  AcquiredSession,
  ListedSession,
  LiveDetails,
  SessionServiceDeps,
  SessionState,
  StopResult,
} from "./types.js";
import { detailsOf } from "./whereabouts.js";
import { endedFromRecord } from "./lifetimes.js";
import type { BlankStartOptions } from "./blank-start.js";

export type {
  AcquiredSession,
  LiveDetails,
  ListedSession,
  LiveViewRegistrar,
  SessionServiceDeps,
  SessionState,
  SessionTerms,
  StopResult,
} from "./types.js";

/** A writer's hold on its profile outlasts its session's TTL by this much, for the final save. */
const PROFILE_GRACE_MS = 60_000;
/** When a caller refused while sessions are still being made is told to try again. */
const CREATING_RETRY_MS = 2_000;

/**
 * The way in to sessions: finds a scrape's live session or has one made (once, however many
 * calls race), checks who may use it and the server-wide cap, and stops it on request. Making
 * is the factory's job, ending the lifetimes', the shared record the registry's.
 */
export class SessionService {
  private closed = false;
  private draining = false;
  /** The bounds on calls waiting in each session and across each team's sessions. */
  private readonly callLimits: CallLimits;

  constructor(private readonly deps: SessionServiceDeps) {
    this.callLimits = {
      perSession: deps.config.maxQueuedCallsPerSession,
      team: new TeamCallQueues(deps.config.teamMaxQueuedCalls),
    };
  }

  private get index() {
    return this.deps.index;
  }

  /** Sessions alive or being created. */
  activeCount(): number {
    return this.index.activeCount;
  }

  /**
   * The live session for a scrape, creating it at the scrape's page state if there is none.
   * `prompt` says the call runs a prompt, so a new session is held to the prompt's terms;
   * `apiKeyId` is the key a new session is opened by (its charge is that key's).
   */
  async acquire(
    scrapeId: string,
    teamId: string,
    opts: {
      prompt?: boolean;
      apiKeyId?: string | null;
      /** A new session's lifetimes (the server's defaults otherwise); an existing one keeps its own. */
      ttlMs?: number;
      idleTtlMs?: number;
    } = {},
  ): Promise<AcquiredSession> {
    for (;;) {
      const found = await this.index.lookup(scrapeId, "interact", teamId);
      if (found.state === "live") return found.acquired;
      if (found.state === "creating") {
        // However many calls race, one session is made; each still has to be its team's.
        const got = await found.ready;
        checkTeam(got.session.teamId, teamId);
        return got;
      }
      if (found.state !== "absent") throw unavailable(found);
      // The lookup waited on the store: another call may have started (or made) it meanwhile.
      if (this.index.isCreating(scrapeId) || this.index.peek(scrapeId)) continue;
      const creation = this.create(found.scrape!, teamId, opts);
      return this.index.making(scrapeId, creation);
    }
  }

  /** The live session of a scrape, if it has one. */
  get(scrapeId: string): LiveSession | undefined {
    const s = this.index.peek(scrapeId)?.session;
    return s?.shape.kind === "interact" ? s : undefined;
  }

  /** Every live session (for listing). */
  list(): LiveSession[] {
    return this.index.all();
  }

  /**
   * Records that a prompt runs in the session: from now on it bills at the prompt rate, so the
   * team's terms may first need more credits held (402 when it lacks them).
   */
  async markUsedPrompt(session: LiveSession): Promise<void> {
    if (session.usedPrompt) return;
    const held = await this.deps.terms?.forPrompt(session);
    if (held && !held.ok) throw insufficientCredits(held, "a prompt in this browser session");
    if (session.usedPrompt) return;
    session.markUsedPrompt();
    await this.deps.registry.markUsedPrompt(session.id);
  }

  /**
   * Stops the session bound to a scrape; returns how long it lived and its end, and whether the
   * database has taken that end yet.
   */
  destroy(scrapeId: string, teamId: string): Promise<StopResult> {
    return this.stopBound(scrapeId, "interact", teamId);
  }

  /**
   * A new standalone browser session (/v2/browser): its own id, on a blank page, opened by
   * `apiKeyId` (its charge is that key's).
   */
  async createBrowser(
    teamId: string,
    opts: {
      ttlMs?: number;
      idleTtlMs?: number;
      streamWebView?: boolean;
      /** Keep nothing of what it shows (its history keeps no address). */
      zeroDataRetention?: boolean;
      /** Record what its live view shows (recordSession). */
      record?: boolean;
      profile?: ProfileRequest;
      /** Ad blocking (default on, as Firecrawl) and location of its browser. */
      start?: BlankStartOptions;
      apiKeyId?: string | null;
    } = {},
  ): Promise<AcquiredSession> {
    this.assertOpen();
    const id = randomUUID();
    const shape: SessionShape = {
      kind: "browser",
      ttlMs: opts.ttlMs ?? this.deps.config.sessionTtlMs,
      idleTtlMs: opts.idleTtlMs ?? this.deps.config.sessionIdleTtlMs,
      streamWebView: opts.streamWebView ?? true,
      zeroDataRetention: opts.zeroDataRetention ?? false,
      record: opts.record ?? false,
    };
    // Opened first: a second writer hears 409 before any browser or credit is spent on it.
    const profile =
      opts.profile && this.deps.profiles
        ? await this.deps.profiles.open(teamId, opts.profile, id, shape.ttlMs + PROFILE_GRACE_MS)
        : undefined;
    const creation = this.open({
      id,
      key: id,
      teamId,
      apiKeyId: opts.apiKeyId ?? null,
      prompt: false,
      shape,
      profile,
      start: () =>
        this.deps.factory.createBlank(id, opts.start ?? { blockAds: true }, (context) =>
          this.applyProfile(profile, context),
        ),
    });
    try {
      return await this.index.making(id, creation);
    } catch (err) {
      await profile?.finish(undefined);
      throw err;
    }
  }

  /** The team's live standalone browser session `id`: 404, 403, 410 (or 503) otherwise. */
  async browser(id: string, teamId: string): Promise<AcquiredSession> {
    const found = await this.index.settledLookup(id, "browser", teamId);
    if (found.state === "live") return found.acquired;
    throw unavailable(found);
  }

  /** Stops the team's standalone browser session `id`. */
  destroyBrowser(id: string, teamId: string): Promise<StopResult> {
    return this.stopBound(id, "browser", teamId);
  }

  /**
   * The team's sessions as recorded, each live one with its details: from this node's index,
   * or from the node that holds it.
   */
  async listOfTeam(teamId: string, query: SessionQuery): Promise<ListedSession[]> {
    const records = await this.deps.registry.list(teamId, query);
    const elsewhere = new Map<string, string[]>();
    for (const r of records) {
      const held = r.status !== "destroyed" && r.nodeId !== this.index.nodeId;
      if (held) elsewhere.set(r.nodeId, [...(elsewhere.get(r.nodeId) ?? []), r.id]);
    }
    const remote = new Map<string, LiveDetails>();
    const ask = this.deps.detailsElsewhere;
    if (ask) {
      await Promise.all(
        [...elsewhere].map(async ([nodeId, ids]) => {
          for (const d of await ask(nodeId, ids).catch(() => [])) remote.set(d.id, d);
        }),
      );
    }
    return records.map((record) => {
      const here = this.index.peek(record.scrapeId);
      return { record, live: here ? detailsOf(here) : remote.get(record.id) };
    });
  }

  /** The details of the live sessions among `ids` this node holds (for a listing elsewhere). */
  detailsHere(ids: string[]): LiveDetails[] {
    const wanted = new Set(ids);
    return this.index
      .all()
      .filter((s) => wanted.has(s.id))
      .map((s) => detailsOf(this.index.peek(s.scrapeId)!));
  }

  /**
   * The team's `kind` session bound to `key`, alive or ended (as recorded), once any making of
   * it is over: 404, 403 (or 503 while the database cannot say) otherwise.
   */
  async stateOf(key: string, kind: SessionKind, teamId: string): Promise<SessionState> {
    const found = await this.index.settledLookup(key, kind, teamId);
    if (found.state === "live") return { live: found.acquired };
    if (found.state === "ended") {
      let record = await this.deps.registry.get(key);
      if (record && record.status !== "destroyed") {
        // Its end is under way here (a TTL, a crash, another stop): as it will be recorded.
        await this.deps.lifetimes.endDone(record.id);
        record = await this.deps.registry.get(key);
      }
      if (record?.status === "destroyed") {
        return { ended: endedFromRecord(record, this.deps.config.sessionTtlMs) };
      }
    }
    throw unavailable(found);
  }

  /**
   * Stops the `kind` session bound to `key`, once any making of it is over. One that ended
   * already is stopped as it is: its end and bill as recorded.
   */
  private async stopBound(key: string, kind: SessionKind, teamId: string): Promise<StopResult> {
    const state = await this.stateOf(key, kind, teamId);
    if (!state.live) return { ended: state.ended, recorded: true };
    const { session } = state.live;
    const ended = await this.deps.lifetimes.end(session, "stopped");
    const endedAt = ended?.endedAt ?? Date.now();
    return {
      sessionDurationMs: endedAt - session.startedAt,
      ended,
      recorded: ended !== undefined && this.deps.lifetimes.endRecorded(session.id),
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new AppError("SHUTTING_DOWN", "The server is shutting down.");
    if (this.draining) {
      throw new AppError(
        "SHUTTING_DOWN",
        "This server is draining: it starts no new session. Retry; the next request is served by another server.",
      );
    }
  }

  /**
   * Starts no new session from now on (the node drains); the live ones keep answering until
   * they end or the lifetimes end them.
   */
  refuseNew(): void {
    this.draining = true;
  }

  private async create(
    scrape: ScrapeRecord,
    teamId: string,
    opts: { prompt?: boolean; apiKeyId?: string | null; ttlMs?: number; idleTtlMs?: number },
  ): Promise<AcquiredSession> {
    const { prompt = false, apiKeyId = null } = opts;
    this.assertOpen();
    const scrapeId = scrape.id;
    const rc = scrape.replayContext;
    if (!rc) throw new AppError("REPLAY_CONTEXT_UNAVAILABLE", MESSAGES.replayUnavailable);
    const id = randomUUID();
    const shape: SessionShape = {
      kind: "interact",
      ttlMs: opts.ttlMs ?? this.deps.config.sessionTtlMs,
      idleTtlMs: opts.idleTtlMs ?? this.deps.config.sessionIdleTtlMs,
      streamWebView: true,
      record: this.deps.config.recordInteractSessions,
    };
    // A scrape made with a named profile hands it on: the session starts from the profile's
    // state (then the scrape's own on top) and, as its writer, saves it back as it ends.
    const profile =
      scrape.profile && this.deps.profiles
        ? await this.deps.profiles.open(teamId, scrape.profile, id, shape.ttlMs + PROFILE_GRACE_MS)
        : undefined;
    try {
      return await this.open({
        id,
        key: scrapeId,
        teamId,
        apiKeyId,
        prompt,
        shape,
        profile,
        start: () =>
          this.deps.factory.create(scrapeId, rc, (context) => this.applyProfile(profile, context)),
      });
    } catch (err) {
      await profile?.finish(undefined);
      throw err;
    }
  }

  /** Puts a profile's saved state into a new session's browser. */
  private async applyProfile(profile: OpenProfile | undefined, context: BrowserContext) {
    try {
      await profile?.apply(context);
    } catch (err) {
      throw new AppError(
        "BROWSER_FAILED",
        `Could not load profile "${profile?.request.name}": ${(err as Error).message}`,
      );
    }
  }

  /**
   * Makes a session bound to `key` (a scrape id, or a browser session's own id): the row first,
   * so a browser is only paid for once the session is ours to make and the team's limit and
   * credits are decided in the same step; then the browser, then the record goes active.
   */
  private async open(o: {
    id?: string;
    key: string;
    teamId: string;
    apiKeyId: string | null;
    prompt: boolean;
    shape: SessionShape;
    profile?: OpenProfile;
    start: () => Promise<SessionResources>;
  }): Promise<AcquiredSession> {
    const began = Date.now();
    // A scrape's creation is already in `creating` by now; a browser session's is put there
    // only once this returns, so it is counted here.
    const max = this.deps.config.maxBrowserSessions;
    const withThis = this.activeCount() + (this.index.isCreating(o.key) ? 0 : 1);
    if (withThis > max) {
      const byLive = soonestFreeSlot(this.index.all());
      // Only sessions still being made hold the slots: their making ends within seconds, and
      // when one fails its slot is free.
      const freeAt = Number.isFinite(byLive) ? byLive : Date.now() + CREATING_RETRY_MS;
      throw tooManySessions(max, freeAt);
    }
    // Before the kernel's OOM killer would have to pick a process (perhaps another session's).
    const memory = checkMemory(this.deps.config.minFreeMemoryBytes);
    if (!memory.ok) throw lowMemory(memory);
    this.deps.factory.assertAvailable();

    const { shape, teamId } = o;
    // A session that ended while the database was down must not count against the limit.
    await this.deps.lifetimes.recordPendingEnds();
    const terms = await this.deps.terms?.forNewSession(teamId, {
      prompt: o.prompt,
      ttlMs: shape.ttlMs,
    });
    const claim = await this.deps.registry.claim(
      {
        id: o.id,
        scrapeId: o.key,
        teamId,
        apiKeyId: o.apiKeyId,
        kind: shape.kind,
        ttlMs: shape.ttlMs,
        idleTtlMs: shape.idleTtlMs,
        streamWebView: shape.streamWebView,
      },
      terms,
    );
    if (claim.outcome !== "claimed") {
      throw claimRefused(claim, {
        nodeId: this.deps.registry.nodeId,
        ttlMs: this.deps.config.sessionTtlMs,
        teamSessionsHere: this.index.ofTeam(teamId),
      });
    }
    const id = claim.record.id;
    let resources;
    try {
      resources = await o.start();
    } catch (err) {
      await this.deps.registry.release(id).catch(() => undefined);
      throw err;
    }
    const session = new LiveSession({
      id,
      scrapeId: o.key,
      teamId,
      cdpToken: newToken(),
      resources,
      shape,
      limits: this.callLimits,
      profile: o.profile,
      onNewLanguage: (s) => this.deps.history?.languageUsed(s),
    });
    // Made before the record goes active, which keeps their digests for the other nodes.
    const views = newViewTokens();
    const tokens = { cdp: session.cdpToken, view: views.viewToken, control: views.controlToken };
    try {
      if (!(await this.deps.registry.activate(id, tokens, session.startedAt))) {
        throw new Error(`the claim on session ${id} was lost`);
      }
    } catch (err) {
      await resources.release();
      await this.deps.registry.release(id).catch(() => undefined);
      throw err;
    }
    const acquired = this.index.add(session, o.key, views);
    this.deps.liveview?.register(session.id, resources.context);
    // Under way at once, its row written meanwhile: the session's making does not wait for it.
    if (shape.record) void this.deps.recordings?.start(session);
    this.deps.lifetimes.track(session);
    this.deps.onCreated?.(session, Date.now() - began);
    if (this.closed) await this.deps.lifetimes.end(session, "shutdown");
    return acquired;
  }

  /** Refuses new sessions and waits for those being made; the lifetimes end the rest. */
  async close(): Promise<void> {
    this.closed = true;
    await this.index.settled();
  }
}
