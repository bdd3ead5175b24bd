import type { InteractResponse, StopResponse } from "../interact/request.js";
import { urlsOf, type SessionRunner } from "../interact/runner.js";
import type { LiveDetails, SessionService } from "../sessions/service.js";
import { sessionUrls } from "../urls/public-urls.js";
import type { SessionRecord } from "../store/repositories.js";
import type { ProfileService } from "../profiles/service.js";
import type { RecordingService } from "../recording/service.js";
import { AppError, MESSAGES } from "../errors/app-error.js";
import type {
  BrowserCreated,
  BrowserStatus,
  BrowserList,
  BrowserListing,
  CreateBrowserRequest,
  ExecuteBrowserRequest,
  ReplayList,
} from "./request.js";

export interface BrowserSessionServiceOptions {
  sessions: Pick<
    SessionService,
    "createBrowser" | "browser" | "listOfTeam" | "destroyBrowser" | "stateOf"
  >;
  profiles: Pick<ProfileService, "delete">;
  /** Runs a call in the session once found, and answers its stop: as interact does. */
  runner: SessionRunner;
  recordings: Pick<RecordingService, "replay" | "page">;
}

/**
 * Firecrawl's standalone browser sessions (/v2/browser): the same sessions as interact's (pool,
 * sandbox, languages, TTLs, CDP, live views, limits, credits), started on a blank page and
 * named by their own id instead of a scrape's.
 */

export class BrowserSessionService {
  constructor(private readonly opts: BrowserSessionServiceOptions) {}

  /** `apiKeyId` is the caller's key: the session is that key's spending. */
  async create(
    teamId: string,
    req: CreateBrowserRequest,
    baseUrl: string,
    apiKeyId: string | null = null,
  ): Promise<BrowserCreated> {
    const acquired = await this.opts.sessions.createBrowser(teamId, {
      ttlMs: req.ttl === undefined ? undefined : req.ttl * 1000,
      idleTtlMs: req.activityTtl === undefined ? undefined : req.activityTtl * 1000,
      streamWebView: req.streamWebView,
      zeroDataRetention: req.zeroDataRetention,
      record: req.recordSession,
      profile: req.profile,
      start: { blockAds: req.blockAds, country: req.location?.country },
      apiKeyId,
    });
    const { session } = acquired;
    return {
      success: true,
      id: session.id,
      ...urlsOf(acquired, baseUrl),
      expiresAt: new Date(session.expiresAt).toISOString(),
    };
  }

  async execute(
    id: string,
    teamId: string,
    req: ExecuteBrowserRequest,
    baseUrl: string,
    signal?: AbortSignal,
  ): Promise<InteractResponse> {
    this.opts.runner.assertRunnable(req);
    const acquired = await this.opts.sessions.browser(id, teamId);
    return this.opts.runner.run(acquired, req, baseUrl, signal);
  }

  async list(
    teamId: string,
    status: "active" | "destroyed" | undefined,
    baseUrl: string,
  ): Promise<BrowserList> {
    const which = status === "active" ? "live" : (status ?? "all");
    const found = await this.opts.sessions.listOfTeam(teamId, {
      kind: "browser",
      status: which,
      limit: 100,
    });
    return { success: true, sessions: found.map((f) => listing(f.record, f.live, baseUrl)) };
  }

  async stop(id: string, teamId: string): Promise<StopResponse> {
    return this.opts.runner.stopped(await this.opts.sessions.destroyBrowser(id, teamId));
  }

  /** The session's state in Firecrawl's words: running with its URLs, or how it ended. */
  async status(id: string, teamId: string, baseUrl: string): Promise<BrowserStatus> {
    const state = await this.opts.sessions.stateOf(id, "browser", teamId);
    if (state.live) {
      return {
        success: true,
        id,
        status: "running",
        ...urlsOf(state.live, baseUrl),
        expiresAt: new Date(state.live.session.expiresAt).toISOString(),
      };
    }
    const { ended } = state;
    const stopped = await this.opts.runner.stopped({ ended, recorded: true });
    return {
      success: true,
      id,
      status: stopped.status,
      cdpUrl: "",
      liveViewUrl: "",
      interactiveLiveViewUrl: "",
      sessionDurationMs: Math.max(0, ended.endedAt - ended.startedAt),
      creditsBilled: stopped.creditsBilled,
      ...(stopped.status === "failed" ? { error: failure(ended.reason) } : {}),
    };
  }

  /**
   * The pages of a session's recording, each with its playlist at `${replayBase}/${pageId}`:
   * 404 when the session was not recorded, 403 when it is another team's.
   */
  async replay(id: string, teamId: string, replayBase: string): Promise<ReplayList> {
    const found = await this.opts.recordings.replay(id);
    if (!found) return this.notRecorded(id, teamId);
    if (found.recording.teamId !== teamId) throw new AppError("FORBIDDEN", MESSAGES.forbidden);
    const pages = found.pages.map((p) => ({
      pageId: String(p.pageId),
      url: `${replayBase}/${p.pageId}`,
      pageUrl: p.pageUrl,
      startTimeMs: p.startMs,
      endTimeMs: p.endMs,
    }));
    return { success: true, pages, pageCount: pages.length };
  }

  /**
   * One page's HLS playlist, its segments named by their URLs under `filesBase` (which serves
   * them to anyone who has the URL).
   */
  async replayPage(id: string, pageId: string, teamId: string, filesBase: string): Promise<string> {
    const found = await this.opts.recordings.page(id, Number(pageId));
    if (!found) return this.notRecorded(id, teamId);
    if (found.recording.teamId !== teamId) throw new AppError("FORBIDDEN", MESSAGES.forbidden);
    const page = found.page;
    if (!page) throw replayNotFound();
    const segments = new Set(page.segments);
    return page.playlist
      .split("\n")
      .map((line) => (segments.has(line.trim()) ? `${filesBase}${line.trim()}` : line))
      .join("\n");
  }

  /** A session with no recording: its own 404 or 403 when it is not the team's, else 404. */
  private async notRecorded(id: string, teamId: string): Promise<never> {
    await this.opts.sessions.stateOf(id, "browser", teamId);
    throw replayNotFound();
  }

  /** Deletes one of the team's profiles: 404 if it has none by that name, 409 while written. */
  async deleteProfile(teamId: string, name: string): Promise<{ success: true }> {
    await this.opts.profiles.delete(teamId, name);
    return { success: true };
  }
}

function replayNotFound(): AppError {
  return new AppError("NOT_FOUND", "Replay not found.");
}

/** Why a session failed, for a person. */
function failure(reason: string): string {
  return reason === "node_lost"
    ? "The server holding this session stopped answering; the session was lost."
    : "The session's browser stopped unexpectedly.";
}

/**
 * A session as listed. Its URLs carry secrets that only this node holds, and only while it is
 * live; for any other the fields are empty strings (the SDK's type has them as strings).
 */
function listing(
  record: SessionRecord,
  live: LiveDetails | undefined,
  baseUrl: string,
): BrowserListing {
  const urls = live
    ? sessionUrls(baseUrl, live)
    : { cdpUrl: "", liveViewUrl: "", interactiveLiveViewUrl: "" };
  const lastActivity = live?.lastUsedAt ?? record.destroyedAt ?? record.seenAt;
  return {
    id: record.id,
    status: record.status === "destroyed" ? "destroyed" : "active",
    ...urls,
    streamWebView: record.streamWebView,
    createdAt: new Date(record.createdAt).toISOString(),
    lastActivity: new Date(lastActivity ?? record.createdAt).toISOString(),
  };
}
