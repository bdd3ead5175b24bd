import { hashToken as digest, newToken, TOKEN_SHAPE } from "../auth/tokens.js";

export type LiveViewMode = "view" | "control";

/** What a live-view token grants: which session, and whether the viewer may send input. */
export interface LiveViewGrant {
  sessionId: string;
  mode: LiveViewMode;
}

export interface LiveViewTokens {
  /** Read-only live view. */
  viewToken: string;
  /** Interactive live view: the viewer may control the browser. */
  controlToken: string;
}

/**
 * Issues and looks up live-view tokens. The two tokens of a session are independent random
 * values, so knowing the read-only one says nothing about the control one; the mode is whatever
 * the server stored for the token, never something the URL says. Lookups go through a SHA-256 of
 * the token so the time a miss takes does not depend on how many leading characters were right.
 */
export class TokenTable {
  private readonly grants = new Map<string, LiveViewGrant>();
  // Kept per session so that registering a session twice hands out the same URLs.
  private readonly sessions = new Map<string, LiveViewTokens>();

  /** New tokens for a session, or the ones it already has. */
  issue(sessionId: string): LiveViewTokens {
    const existing = this.sessions.get(sessionId);
    if (existing) return { ...existing };
    const tokens: LiveViewTokens = { viewToken: newToken(), controlToken: newToken() };
    this.grants.set(digest(tokens.viewToken), { sessionId, mode: "view" });
    this.grants.set(digest(tokens.controlToken), { sessionId, mode: "control" });
    this.sessions.set(sessionId, tokens);
    return { ...tokens };
  }

  /** The grant behind a token, or undefined for anything unknown, revoked or malformed. */
  resolve(token: string): LiveViewGrant | undefined {
    if (!TOKEN_SHAPE.test(token)) return undefined;
    const grant = this.grants.get(digest(token));
    return grant ? { ...grant } : undefined;
  }

  /** Makes both tokens of a session stop working. */
  revoke(sessionId: string): void {
    const tokens = this.sessions.get(sessionId);
    if (!tokens) return;
    this.grants.delete(digest(tokens.viewToken));
    this.grants.delete(digest(tokens.controlToken));
    this.sessions.delete(sessionId);
  }
}
