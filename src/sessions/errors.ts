import { AppError, MESSAGES } from "../errors/app-error.js";
import type { SessionClaim } from "../store/repositories.js";
import { foundFromRecord, type Found } from "./whereabouts.js";
import type { MemoryCheck } from "../health/memory.js";
import type { LiveSession } from "./live-session.js";

/** When a caller refused for want of memory is told to try again: sessions end every minute. */
const LOW_MEMORY_RETRY_SECONDS = 30;

/** Why a claim was refused, as the error the caller gets. */
export function claimRefused(
  claim: Exclude<SessionClaim, { outcome: "claimed" }>,
  here: { nodeId: string; ttlMs: number; teamSessionsHere: LiveSession[] },
): AppError {
  switch (claim.outcome) {
    case "taken":
      return unavailable(foundFromRecord(claim.record, here.nodeId));
    case "credits":
      return insufficientCredits(claim, "a browser session for its full TTL");
    case "limit": {
      // Other nodes' sessions are known by when they started; this node's by their own timers.
      const byTtl = Math.min(...claim.liveStartedAt.map((t) => t + here.ttlMs));
      return tooManySessions(claim.limit, Math.min(byTtl, soonestFreeSlot(here.teamSessionsHere)));
    }
  }
}

/** The soonest one of these sessions ends by itself (TTL, or idling while nothing runs). */
export function soonestFreeSlot(sessions: LiveSession[]): number {
  let soonest = Infinity;
  for (const s of sessions) {
    soonest = Math.min(soonest, s.expiresAt);
    if (s.busy === 0) soonest = Math.min(soonest, s.lastUsedAt + s.shape.idleTtlMs);
  }
  return soonest;
}

/** 429, with when a slot should free up if that is known. */
export function tooManySessions(limit: number, freeAt: number): AppError {
  const retryAfterSeconds = Number.isFinite(freeAt)
    ? Math.max(1, Math.ceil((freeAt - Date.now()) / 1000))
    : undefined;
  return new AppError(
    "TOO_MANY_SESSIONS",
    MESSAGES.tooManySessions,
    { limit, ...(retryAfterSeconds ? { retryAfterSeconds } : {}) },
    { retryAfterSeconds },
  );
}

/** 503: this node is short of memory for another browser; another node (or later) may not be. */
export function lowMemory(check: MemoryCheck): AppError {
  const mb = (bytes: number) => Math.floor(bytes / (1024 * 1024));
  return new AppError(
    "LOW_MEMORY",
    `This server is short of memory for a new browser session: ${mb(check.availableBytes)} MB available, ` +
      `and it keeps at least ${mb(check.minFreeBytes)} MB free (MIN_FREE_MEMORY_MB). Retry later.`,
    { availableBytes: check.availableBytes, minFreeBytes: check.minFreeBytes },
    { retryAfterSeconds: LOW_MEMORY_RETRY_SECONDS },
  );
}

/** 402 with what was needed and what the team has. */
export function insufficientCredits(
  figures: { needed: number; available: number },
  purpose: string,
): AppError {
  return new AppError(
    "PAYMENT_REQUIRED",
    `${MESSAGES.insufficientSessionCredits}: ${purpose} needs ${figures.needed} credits and the team has ${figures.available}.`,
    { needed: figures.needed, available: figures.available },
  );
}

export function checkTeam(owner: string, caller: string): void {
  if (owner !== caller) throw new AppError("FORBIDDEN", MESSAGES.forbidden);
}

/**
 * Why a request cannot use the session it names: 410 with the reason it ended, 503 when another
 * node holds it, 404 when there never was one.
 */
export function unavailable(found: Exclude<Found, { state: "live" | "creating" }>): AppError {
  switch (found.state) {
    case "elsewhere":
      return new AppError(
        "SESSION_ON_OTHER_NODE",
        `This scrape's session is served by another node (${found.nodeId}); send the request there.`,
      );
    case "ended":
      return destroyed(found.reason);
    case "absent":
      return new AppError("SESSION_NOT_FOUND", MESSAGES.sessionNotFound);
  }
}

/** 410 with the reason the session ended (stopped, ttl, idle, browser_crashed, ...). */
export function destroyed(reason: string): AppError {
  return new AppError("SESSION_DESTROYED", MESSAGES.sessionDestroyed, { reason });
}
