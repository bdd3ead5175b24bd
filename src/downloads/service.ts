import { randomBytes } from "node:crypto";
import type { FileStore, StoredFile } from "../files/file-store.js";
import type { Logger } from "../log/logger.js";
import type { SessionEnded } from "../sessions/lifetimes.js";
import type { LiveSession } from "../sessions/live-session.js";
import type { SessionService } from "../sessions/service.js";
import type { DownloadRecord, SessionKind, Store } from "../store/repositories.js";
import { PATHS } from "../urls/public-urls.js";
import { cleanDownloadName, mimeTypeOf } from "./names.js";
import { DownloadWatcher } from "./watcher.js";

export interface DownloadServiceOptions {
  store: Pick<Store, "downloads" | "sessions">;
  files: FileStore;
  sessions: Pick<SessionService, "stateOf">;
  config: { sessionDownloadsBytes: number; recordingRetentionMs: number };
  log: Pick<Logger, "warn">;
  /** The clock the retention counts by (tests move it). */
  now?: () => number;
}

/** One file of a session's listing, in Firecrawl's camelCase. */
export interface DownloadListing {
  name: string;
  size: number;
  mimeType: string;
  createdAt: string;
  /** Serves the bytes; null for a download that failed. */
  url: string | null;
  state: "completed" | "failed";
  error?: string;
}

/** A kept download, ready to serve. */
export interface ServedDownload {
  record: DownloadRecord;
  file: StoredFile;
}

/** Downloads removed per sweep query, so a long backlog is taken in bounded steps. */
const SWEEP_BATCH = 100;
/** How often expired downloads are looked for. */
const SWEEP_EVERY_MS = 15 * 60_000;

/**
 * Files sessions' browsers download: watched on every live session (see watcher.ts), kept in the
 * file store (every node of a cluster serves them) with their metadata in the database, listed
 * per session, and removed with their bytes once they have outlived their session by the
 * retention (RECORDING_RETENTION_DAYS).
 */
export class DownloadService {
  private readonly now: () => number;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly opts: DownloadServiceOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Sweeps now and then from now on (every node does: a removal is idempotent). */
  startSweeping(): void {
    this.sweeper ??= setInterval(() => {
      this.sweep().catch((err: unknown) => this.opts.log.warn({ err }, "downloads sweep failed"));
    }, SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  /** Starts keeping what `session`'s browser downloads, until it ends. */
  watch(session: LiveSession): void {
    const meta = (name: string) => {
      const clean = cleanDownloadName(name);
      const createdAt = this.now();
      return {
        id: randomBytes(16).toString("base64url"),
        sessionId: session.id,
        sessionKey: session.scrapeId,
        teamId: session.teamId,
        name: clean,
        mimeType: mimeTypeOf(clean),
        createdAt,
        expiresAt: createdAt + this.opts.config.recordingRetentionMs,
      };
    };
    const watcher = new DownloadWatcher(
      session.resources.proc,
      this.opts.config.sessionDownloadsBytes,
      {
        kept: async ({ name, bytes }) => {
          const file = await this.opts.files.save(bytes, "bin");
          const row = { ...meta(name), size: bytes.length, state: "completed" as const, file };
          await this.opts.store.downloads.add(row).catch(async (err: unknown) => {
            await this.opts.files.remove([file]).catch(() => {});
            throw err;
          });
          // The session's record says it has files, for its history.
          await this.opts.store.sessions.countFile(session.id).catch((err: unknown) => {
            this.opts.log.warn({ err, sessionId: session.id }, "could not count a download");
          });
        },
        refused: async ({ name, size }) => {
          await this.opts.store.downloads.add({ ...meta(name), size, state: "failed", file: null });
        },
      },
      this.opts.log,
    );
    session.beforeRelease(() => watcher.finish());
    watcher.start().catch((err: unknown) => {
      if (session.alive) this.opts.log.warn({ err, sessionId: session.id }, "downloads unwatched");
    });
  }

  /** A session has ended: its files are kept for the retention from now on. */
  async sessionEnded(e: Pick<SessionEnded, "sessionId" | "endedAt">): Promise<void> {
    await this.opts.store.downloads.expireWith(
      e.sessionId,
      e.endedAt + this.opts.config.recordingRetentionMs,
    );
  }

  /**
   * The files of the team's `kind` session named by `key`, alive or ended: 404 for a session
   * never known, 403 for another team's (as every session route).
   */
  async list(
    key: string,
    kind: SessionKind,
    teamId: string,
    baseUrl: string,
  ): Promise<{ success: true; files: DownloadListing[] }> {
    await this.opts.sessions.stateOf(key, kind, teamId);
    const rows = await this.opts.store.downloads.ofSession(key);
    const now = this.now();
    return {
      success: true,
      files: rows.filter((r) => r.expiresAt > now).map((r) => listing(r, baseUrl)),
    };
  }

  /** A kept download by its id, or undefined (never kept, failed, or past its retention). */
  async open(id: string): Promise<ServedDownload | undefined> {
    if (!/^[A-Za-z0-9_-]{22}$/.test(id)) return undefined;
    const record = await this.opts.store.downloads.get(id);
    if (!record?.file || record.expiresAt <= this.now()) return undefined;
    const file = await this.opts.files.read(record.file);
    return file && { record, file };
  }

  /** Removes every download past its retention at `at` (now), bytes and row; how many went. */
  async sweep(at = this.now()): Promise<number> {
    let removed = 0;
    for (;;) {
      const batch = await this.opts.store.downloads.expired(at, SWEEP_BATCH);
      for (const r of batch) {
        if (r.file) await this.opts.files.remove([r.file]);
        await this.opts.store.downloads.remove(r.id);
      }
      removed += batch.length;
      if (batch.length < SWEEP_BATCH) return removed;
    }
  }
}

function listing(r: DownloadRecord, baseUrl: string): DownloadListing {
  const base = {
    name: r.name,
    size: r.size,
    mimeType: r.mimeType,
    createdAt: new Date(r.createdAt).toISOString(),
  };
  if (r.state === "failed") {
    return {
      ...base,
      url: null,
      state: "failed",
      error:
        "The session's download quota (SESSION_DOWNLOADS_MB) was reached; the download was cancelled.",
    };
  }
  return {
    ...base,
    url: `${baseUrl.replace(/\/+$/, "")}${PATHS.downloads}${r.id}`,
    state: "completed",
  };
}
