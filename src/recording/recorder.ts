import fs from "node:fs/promises";
import path from "node:path";
import type { FileStore } from "../files/file-store.js";
import type { FrameSink } from "../liveview/frame-sink.js";
import type { StreamSettings } from "../liveview/settings.js";
import type { Logger } from "../log/logger.js";
import type { RecordedPage, RecordingRepository } from "../store/repositories.js";
import { PageEncoder, type EncoderSettings } from "./encoder.js";

/** pageIds are 0-999 (Firecrawl's `^\d{1,3}$`): a session's later pages are not recorded. */
export const MAX_PAGES = 1000;

export interface RecorderDeps {
  ffmpeg: string;
  files: FileStore;
  rows: RecordingRepository;
  encoder: EncoderSettings;
  log: Pick<Logger, "info" | "warn">;
}

interface OpenPage {
  url: string;
  startMs: number;
  /** Given with the page's first frame: a page nothing was seen of gets no pageId. */
  pageId?: number;
  encoder?: PageEncoder;
}

/**
 * One session's recording: the live view's frames of whatever tab is on show, a page at a time.
 * Each page (a tab coming on show, or the tab going to another address) has its own encoder;
 * when it ends, its segments go to the file store and its row to the database, in page order,
 * without holding up the next page.
 */
export class SessionRecorder implements FrameSink {
  readonly settings: StreamSettings;
  private current: OpenPage | undefined;
  private nextPageId = 0;
  private stored: Promise<void> = Promise.resolve();
  private ended = false;

  constructor(
    readonly sessionId: string,
    private readonly startedAt: number,
    private readonly dir: string,
    private readonly deps: RecorderDeps,
  ) {
    const { fps, maxWidth } = deps.encoder;
    this.settings = { quality: 60, fps, maxWidth };
  }

  page(url: string): void {
    if (this.ended) return;
    this.closePage();
    this.current = { url, startMs: Date.now() - this.startedAt };
  }

  frame(jpeg: Buffer): void {
    const page = this.current;
    if (!page || this.ended) return;
    if (!page.encoder) {
      if (this.nextPageId >= MAX_PAGES) return;
      page.pageId = this.nextPageId++;
      page.encoder = PageEncoder.start(
        this.deps.ffmpeg,
        path.join(this.dir, String(page.pageId)),
        this.deps.encoder,
        this.deps.log,
      );
    }
    page.encoder.push(jpeg);
  }

  /** The page being recorded now: its address and how many frames went to its video so far. */
  onShow(): { pageId: number; url: string; frames: number } | undefined {
    const page = this.current;
    if (!page?.encoder || page.pageId === undefined) return undefined;
    return { pageId: page.pageId, url: page.url, frames: page.encoder.written };
  }

  /** Ends the recording: the page on show ends now; resolves once every page is stored. */
  async end(): Promise<void> {
    if (!this.ended) {
      this.closePage();
      this.ended = true;
    }
    await this.stored;
    await fs.rm(this.dir, { recursive: true, force: true });
  }

  /** Stops at once, storing nothing more (the server is going away). */
  async abort(): Promise<void> {
    this.ended = true;
    const page = this.current;
    this.current = undefined;
    await page?.encoder?.abort();
  }

  private closePage(): void {
    const page = this.current;
    this.current = undefined;
    if (!page?.encoder || page.pageId === undefined) return;
    const endMs = Date.now() - this.startedAt;
    const { pageId, encoder } = page;
    const store = () => this.store(pageId, page.url, page.startMs, endMs, encoder);
    this.stored = this.stored.then(store, store);
  }

  private async store(
    pageId: number,
    pageUrl: string,
    startMs: number,
    endMs: number,
    encoder: PageEncoder,
  ): Promise<void> {
    try {
      const encoded = await encoder.finish();
      if (!encoded) {
        this.deps.log.warn({ sessionId: this.sessionId, pageId }, "a recorded page had no video");
        return;
      }
      const names = new Map<string, string>();
      let bytes = 0;
      for (const segment of encoded.segments) {
        const data = await fs.readFile(path.join(encoder.dir, path.basename(segment)));
        bytes += data.length;
        names.set(segment, await this.deps.files.save(data, "ts"));
      }
      // The stored playlist names segments by their public file names; the route makes them URLs.
      const playlist = encoded.playlist
        .split("\n")
        .map((line) => names.get(line.trim()) ?? line)
        .join("\n");
      const row: RecordedPage = {
        pageId,
        pageUrl,
        startMs,
        endMs,
        playlist,
        segments: [...names.values()],
        bytes,
      };
      try {
        await this.deps.rows.addPage(this.sessionId, row);
      } catch (err) {
        await this.deps.files.remove(row.segments).catch(() => undefined);
        throw err;
      }
    } catch (err) {
      this.deps.log.warn({ err, sessionId: this.sessionId, pageId }, "could not store a page");
    } finally {
      await fs.rm(encoder.dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}
