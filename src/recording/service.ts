import fs from "node:fs";
import path from "node:path";
import type { FileStore } from "../files/file-store.js";
import type { FrameSink } from "../liveview/frame-sink.js";
import type { Logger } from "../log/logger.js";
import type { RecordedPage, RecordingRecord, RecordingRepository } from "../store/repositories.js";
import { ENCODER_SETTINGS, type EncoderSettings } from "./encoder.js";
import { SessionRecorder } from "./recorder.js";

export interface RecordingServiceOptions {
  rows: RecordingRepository;
  /** The session's record notes that it is recorded (its history shows it). */
  markRecorded?(sessionId: string): Promise<void>;
  files: FileStore;
  /** Where the live view hands a session's frames over; false when it does not stream it. */
  addSink(sessionId: string, sink: FrameSink): boolean;
  /** ffmpeg's path, or undefined when it is not installed (nothing is recorded then). */
  ffmpeg: string | undefined;
  /** Where pages are encoded before their segments are stored. */
  workDir: string;
  /** How long a recording is kept, from its session's start. */
  retentionMs: number;
  log: Pick<Logger, "info" | "warn">;
  encoder?: EncoderSettings;
}

/** A recording as its team reads it: its finished pages (all of them once it has ended). */
export interface Replay {
  recording: RecordingRecord;
  pages: RecordedPage[];
}

/** Recordings removed per sweep query; a sweep goes on until none is left. */
const SWEEP_BATCH = 100;

/**
 * Session recordings: started with a session that asks for one, fed by its live view's
 * screencast (never a second rendering of the page), ended with it; kept for the retention
 * period, then removed with their video.
 */
export class RecordingService {
  private readonly recorders = new Map<string, SessionRecorder>();
  /** Recordings ending here: their last pages are being stored. */
  private readonly ending = new Map<string, Promise<void>>();
  /** Recordings whose row is being written. */
  private readonly beginning = new Map<string, Promise<void>>();
  private warned = false;

  constructor(private readonly opts: RecordingServiceOptions) {}

  /** Whether this server can record (ffmpeg is installed). */
  get available(): boolean {
    return this.opts.ffmpeg !== undefined;
  }

  /**
   * Starts recording a session that has just started streaming to the live view: at once (its
   * end may follow any moment), its row as soon as the database takes it. A recording that
   * cannot start is logged, never a failed session. Resolves once the row is written.
   */
  start(session: { id: string; teamId: string; startedAt: number }): Promise<void> {
    const ffmpeg = this.opts.ffmpeg;
    if (!ffmpeg) {
      if (!this.warned)
        this.opts.log.warn({}, "ffmpeg is not installed: sessions are not recorded");
      this.warned = true;
      return Promise.resolve();
    }
    const recorder = new SessionRecorder(
      session.id,
      session.startedAt,
      path.join(this.opts.workDir, session.id),
      {
        ffmpeg,
        files: this.opts.files,
        rows: this.opts.rows,
        encoder: this.opts.encoder ?? ENCODER_SETTINGS,
        log: this.opts.log,
      },
    );
    this.recorders.set(session.id, recorder);
    const begun = this.opts.rows
      .begin({ sessionId: session.id, teamId: session.teamId, startedAt: session.startedAt })
      .then(() =>
        this.opts.markRecorded?.(session.id).catch((err: unknown) => {
          this.opts.log.warn({ err, sessionId: session.id }, "could not note the recording");
        }),
      )
      .catch((err) => {
        this.opts.log.warn({ err, sessionId: session.id }, "could not start a recording");
        if (this.recorders.get(session.id) === recorder) this.recorders.delete(session.id);
        void recorder.abort();
      })
      .finally(() => this.beginning.delete(session.id));
    this.beginning.set(session.id, begun);
    if (!this.opts.addSink(session.id, recorder)) void this.end(session.id);
    return begun;
  }

  /** What a session's recording takes now (the page on show), while it records here. */
  onShow(sessionId: string): ReturnType<SessionRecorder["onShow"]> {
    return this.recorders.get(sessionId)?.onShow();
  }

  /** Ends a session's recording (if it has one): its last page is stored, then it is done. */
  end(sessionId: string): Promise<void> {
    const recorder = this.recorders.get(sessionId);
    if (!recorder) return this.ending.get(sessionId) ?? Promise.resolve();
    this.recorders.delete(sessionId);
    const done = (async () => {
      await this.beginning.get(sessionId);
      await recorder.end();
      await this.opts.rows
        .end(sessionId, Date.now())
        .catch((err) => this.opts.log.warn({ err, sessionId }, "could not end a recording"));
    })().finally(() => this.ending.delete(sessionId));
    this.ending.set(sessionId, done);
    return done;
  }

  /**
   * A session's recording with its finished pages, or undefined when it was not recorded. One
   * ending on this server is waited for, so a session just stopped lists all its pages.
   */
  async replay(sessionId: string): Promise<Replay | undefined> {
    await this.beginning.get(sessionId);
    await this.ending.get(sessionId);
    const recording = await this.opts.rows.get(sessionId);
    if (!recording) return undefined;
    return { recording, pages: await this.opts.rows.pages(sessionId) };
  }

  /** One finished page of a recording, with its recording (for the team check). */
  async page(
    sessionId: string,
    pageId: number,
  ): Promise<{ recording: RecordingRecord; page: RecordedPage | undefined } | undefined> {
    await this.beginning.get(sessionId);
    await this.ending.get(sessionId);
    const recording = await this.opts.rows.get(sessionId);
    if (!recording) return undefined;
    return { recording, page: await this.opts.rows.page(sessionId, pageId) };
  }

  /**
   * Removes the recordings whose retention has ended by `now`: their segments, then their rows.
   * Returns how many went.
   */
  async sweep(now = Date.now()): Promise<number> {
    let removed = 0;
    for (;;) {
      const due = await this.opts.rows.startedBefore(now - this.opts.retentionMs, SWEEP_BATCH);
      // One still being recorded or stored here is left for a later sweep.
      const done = due.filter(
        (r) => !this.recorders.has(r.sessionId) && !this.ending.has(r.sessionId),
      );
      for (const r of done) {
        const pages = await this.opts.rows.pages(r.sessionId);
        await this.opts.files.remove(pages.flatMap((p) => p.segments));
        await this.opts.rows.remove(r.sessionId);
        removed++;
      }
      if (due.length < SWEEP_BATCH || done.length === 0) return removed;
    }
  }

  /** Waits for the recordings ending here (the sessions' own ends come first). */
  async drain(): Promise<void> {
    await Promise.all([...this.ending.values()]);
  }

  /** Stops whatever is still recording, keeping none of it. */
  async close(): Promise<void> {
    const left = [...this.recorders.values()];
    this.recorders.clear();
    await Promise.all(left.map((r) => r.abort()));
  }
}

/** ffmpeg on this machine: the first executable of that name in `dirs`. */
export function findFfmpeg(
  dirs = ["/usr/bin", "/usr/local/bin", "/opt/homebrew/bin"],
): string | undefined {
  for (const dir of dirs) {
    const candidate = path.join(dir, "ffmpeg");
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}
