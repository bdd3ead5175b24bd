import type { Logger } from "../log/logger.js";
import type { SessionActivity } from "../store/repositories.js";
import type { LiveSession } from "./live-session.js";
import type { SessionRegistry } from "./registry.js";

/**
 * What a live session has done so far, as its record keeps it: never an address it showed
 * under zero data retention.
 */
export function activityOf(s: LiveSession): SessionActivity {
  const lastUrl = s.shape.zeroDataRetention ? undefined : s.currentUrl;
  return { languages: [...s.languages], calls: s.callCount, ...(lastUrl ? { lastUrl } : {}) };
}

/**
 * Keeps what each live session does in the shared record, cheaply, so that it outlives the
 * session, its node and a restart: a language is written when it first runs (a few writes per
 * session), calls and the address on show with the heartbeat (only for sessions that changed
 * since the last write), and everything at the end (with the end itself; see lifetimes.ts).
 * A write that fails is only logged: the next heartbeat or the end writes it again.
 */
export class SessionHistory {
  /** What was last written of each live session, to skip the ones that did nothing since. */
  private readonly written = new Map<string, string>();

  constructor(
    private readonly registry: Pick<SessionRegistry, "recordActivity">,
    private readonly log: Pick<Logger, "warn">,
  ) {}

  /** A language ran code in the session for the first time: written now. */
  languageUsed(s: LiveSession): void {
    void this.write(s, activityOf(s));
  }

  /** Writes what changed in each of these live sessions since its last write (the heartbeat). */
  async flush(sessions: readonly LiveSession[]): Promise<void> {
    await Promise.all(
      sessions.map((s) => {
        const activity = activityOf(s);
        return this.written.get(s.id) === key(activity) ? undefined : this.write(s, activity);
      }),
    );
  }

  /** The session ended: its end wrote its last activity. */
  forget(sessionId: string): void {
    this.written.delete(sessionId);
  }

  private async write(s: LiveSession, activity: SessionActivity): Promise<void> {
    try {
      await this.registry.recordActivity(s.id, activity);
      if (s.alive) this.written.set(s.id, key(activity));
    } catch (err) {
      this.log.warn({ err, sessionId: s.id }, "could not record what a session did");
    }
  }
}

const key = (a: SessionActivity) => JSON.stringify([a.languages, a.calls, a.lastUrl]);
