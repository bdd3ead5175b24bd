import type { ScrapeRecord, SessionRecord } from "../store/repositories.js";
import type { LiveSession } from "./live-session.js";

/** A live session as its caller gets it: with its two live view tokens. */
export interface AcquiredSession {
  session: LiveSession;
  viewToken: string;
  controlToken: string;
}

/**
 * Where the session a request names is, as far as this node can tell:
 * - `live`: held here, alive, of the caller's team and the kind asked for;
 * - `creating`: being made here; `ready` settles once it is (or has failed);
 * - `elsewhere`: held by another node, alive as far as the shared record says;
 * - `ended`: it ended, for this reason (a 410);
 * - `absent`: nothing was ever made for this key (`scrape` is its scrape, when it names one).
 */
export type Found =
  | { state: "live"; acquired: AcquiredSession }
  | { state: "creating"; ready: Promise<AcquiredSession> }
  | { state: "elsewhere"; nodeId: string; record: SessionRecord }
  | { state: "ended"; reason: string }
  | { state: "absent"; scrape?: ScrapeRecord };

/** What the shared record says of a session this node does not hold. */
export function foundFromRecord(
  record: SessionRecord,
  nodeId: string,
): Extract<Found, { state: "elsewhere" | "ended" }> {
  if (record.status !== "destroyed" && record.nodeId !== nodeId) {
    return { state: "elsewhere", nodeId: record.nodeId, record };
  }
  return { state: "ended", reason: record.destroyReason ?? "stopped" };
}

/**
 * What a live session shows of itself to a listing, wherever it runs: the same for a session of
 * this node and, fetched from its owner, for one of another node.
 */
export interface LiveDetails {
  id: string;
  cdpToken: string;
  viewToken: string;
  controlToken: string;
  lastUsedAt: number;
  busy: number;
  /** The address of its newest open tab, when it has one. */
  currentUrl?: string;
  /** Languages that ran code in it, in the order first used. */
  languages: string[];
  usedPrompt: boolean;
  /** Calls run in it so far. */
  calls: number;
  ttlMs: number;
}

/** A live session of this node, as a listing shows it. */
export function detailsOf({ session, viewToken, controlToken }: AcquiredSession): LiveDetails {
  return {
    id: session.id,
    cdpToken: session.cdpToken,
    viewToken,
    controlToken,
    lastUsedAt: session.lastUsedAt,
    busy: session.busy,
    currentUrl: session.currentUrl,
    languages: [...session.languages],
    usedPrompt: session.usedPrompt,
    calls: session.callCount,
    ttlMs: session.shape.ttlMs,
  };
}
