import type { BrowserContext } from "playwright-core";
import { AppError } from "../errors/app-error.js";
import type { Store } from "../store/repositories.js";
import type { Logger } from "../log/logger.js";

/** A profile as a request names it: Firecrawl's `{name, saveChanges}`. */
export interface ProfileRequest {
  name: string;
  /** Write the browser's state back when done (one writer at a time); false only reads. */
  saveChanges: boolean;
}

/** How long saving a browser's state may take before the session's end goes on without it. */
const SAVE_TIMEOUT_MS = 10_000;

/**
 * Largest state a profile keeps, as JSON. Bigger ones are not saved (the profile keeps what it
 * had): a page must not be able to fill the shared database through a profile.
 */
export const PROFILE_MAX_BYTES = 16 * 1024 * 1024;

type StorageState = Parameters<BrowserContext["setStorageState"]>[0];

/**
 * Named, persistent browser state per team (cookies, local storage, IndexedDB). A session or
 * scrape opens a profile, starts from its saved state, and, as its one writer, saves it back
 * when it ends. Profiles are only ever looked up within the caller's team.
 */
export class ProfileService {
  constructor(
    private readonly store: Pick<Store, "profiles">,
    private readonly log: Pick<Logger, "warn">,
  ) {}

  /**
   * Opens a profile for `holderId` (a session or scrape id). As a writer it holds the profile
   * for `leaseMs` at most (its lifetime: a holder that dies unseen frees it by itself); a second
   * writer meanwhile gets 409. Readers are never refused.
   */
  async open(
    teamId: string,
    profile: ProfileRequest,
    holderId: string,
    leaseMs: number,
  ): Promise<OpenProfile> {
    const at = Date.now();
    const res = await this.store.profiles.checkout({
      teamId,
      name: profile.name,
      writer: profile.saveChanges ? { id: holderId, until: at + leaseMs } : undefined,
      at,
    });
    if (!res.ok) {
      const seconds = Math.max(1, Math.ceil((res.busyUntil - at) / 1000));
      throw new AppError(
        "PROFILE_IN_USE",
        `Profile "${profile.name}" is being written by another session. Open it with saveChanges: false to read it, or retry once that session ends.`,
        { profile: profile.name },
        { retryAfterSeconds: seconds },
      );
    }
    return new OpenProfile(this.store, this.log, teamId, profile, holderId, res.state);
  }

  /** Deletes the team's profile `name`: 404 when it has none, 409 while a session writes it. */
  async delete(teamId: string, name: string): Promise<void> {
    const res = await this.store.profiles.delete(teamId, name, Date.now());
    if (res === "missing") {
      throw new AppError("NOT_FOUND", "Profile not found.", { profile: name });
    }
    if (res === "in_use") {
      throw new AppError(
        "PROFILE_IN_USE",
        "A session is currently saving to this profile. Stop that session, then delete the profile.",
        { profile: name },
      );
    }
  }
}

/** A profile opened by one session or scrape: put its state in a browser, save it back once. */
export class OpenProfile {
  private finished = false;

  constructor(
    private readonly store: Pick<Store, "profiles">,
    private readonly log: Pick<Logger, "warn">,
    readonly teamId: string,
    readonly request: ProfileRequest,
    private readonly holderId: string,
    /** The saved state, or null for a profile nothing was saved to yet. */
    readonly state: unknown | null,
  ) {}

  /** Puts the saved state into a browser context (nothing for a new profile). */
  async apply(context: BrowserContext): Promise<void> {
    if (this.state) await context.setStorageState(this.state as StorageState);
  }

  /**
   * Ends this use of the profile, once: a writer saves the context's state (when there is a
   * context to read: a crashed browser has none) and gives the lease back either way.
   */
  async finish(context: BrowserContext | undefined): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    if (!this.request.saveChanges) return;
    const key = { teamId: this.teamId, name: this.request.name, writerId: this.holderId };
    try {
      if (context) {
        const state = await withTimeout(context.storageState({ indexedDB: true }), SAVE_TIMEOUT_MS);
        const bytes = Buffer.byteLength(JSON.stringify(state));
        if (bytes <= PROFILE_MAX_BYTES) {
          await this.store.profiles.save({ ...key, state, at: Date.now() });
          return;
        }
        this.log.warn(
          { profile: this.request.name, bytes, max: PROFILE_MAX_BYTES },
          "a browser profile's state is too large to keep; the profile keeps what it had",
        );
      }
    } catch (err) {
      this.log.warn({ err, profile: this.request.name }, "could not save a browser profile");
    }
    await this.store.profiles.release(key).catch(() => undefined);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
