import type { BrowserContext, Frame } from "playwright-core";
import { InputQueue } from "./input.js";
import { PageTracker } from "./page-tracker.js";
import { encodeFrame, type InputMessage, type MetaMessage } from "./protocol.js";
import { Screencast, type ScreencastFrame } from "./screencast.js";
import type { FrameSink } from "./frame-sink.js";
import { combineSettings, sameSettings } from "./settings.js";
import { CLOSE_SESSION_ENDED, type Viewer } from "./viewer.js";

/** Page title and URL are re-read at most this often while frames arrive (titles change too). */
const META_REFRESH_MS = 1000;
const START_RETRY_MS = 100;
const START_RETRIES = 50;

/**
 * Everything live about one session's view: its viewers, and the one screencast they share.
 * The screencast runs only while someone watches, and always on the session's current tab.
 */
export class SessionStream {
  private readonly viewers = new Set<Viewer>();
  private readonly sinks = new Set<FrameSink>();
  /** The tab and address the sinks were last told of. */
  private sinkPage: { page: unknown; url: string } | undefined;
  private tracker: PageTracker;
  private cast: Screencast | undefined;
  private lastFrame: Buffer | undefined;
  private viewport: ScreencastFrame["viewport"] | undefined;
  private meta: MetaMessage = { type: "meta", url: "", title: "", viewport: null };
  private metaReadAt = 0;
  private seq = 0;
  private ended = false;
  private startRetries = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  // Start, stop and page switches run one at a time, each against the latest wishes.
  private reconciling: Promise<void> = Promise.resolve();
  private readonly inputs = new InputQueue(() =>
    this.cast && this.viewport ? { cdp: this.cast.cdp, viewport: this.viewport } : undefined,
  );
  private readonly onLoad = () => void this.readMeta();
  private readonly onNavigated = (frame: Frame) => {
    if (frame.parentFrame()) return;
    void this.readMeta();
    if (this.cast) this.tellSinks(this.cast.page, frame.url());
  };

  constructor(private readonly context: BrowserContext) {
    this.tracker = new PageTracker(context, () => this.reconcile());
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** Attaches a sink: the screencast runs for it from now on, viewers or not. */
  addSink(sink: FrameSink): void {
    if (this.ended) return;
    this.sinks.add(sink);
    this.sinkPage = undefined;
    if (this.cast) this.tellSinks(this.cast.page, this.cast.page.url());
    this.reconcile();
  }

  removeSink(sink: FrameSink): void {
    if (this.sinks.delete(sink)) this.reconcile();
  }

  get streaming(): boolean {
    return this.cast !== undefined;
  }

  addViewer(viewer: Viewer): void {
    if (this.ended) return viewer.close(CLOSE_SESSION_ENDED, "session ended");
    this.viewers.add(viewer);
    viewer.sendMessage({ type: "status", state: "connected" });
    viewer.sendMessage(this.meta);
    if (this.lastFrame) viewer.offerFrame(this.lastFrame);
    this.reconcile();
  }

  removeViewer(viewer: Viewer): void {
    if (this.viewers.delete(viewer)) this.reconcile();
  }

  /** Input from a control viewer, applied to the tab on show. */
  input(msg: InputMessage): void {
    if (!this.ended) this.inputs.push(msg);
  }

  /** Tells every viewer the session is over, closes them and stops streaming. */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.retryTimer);
    for (const viewer of this.viewers) {
      viewer.sendMessage({ type: "status", state: "ended" });
      viewer.close(CLOSE_SESSION_ENDED, "session ended");
    }
    this.viewers.clear();
    this.sinks.clear();
    this.tracker.dispose();
    this.reconcile();
    await this.reconciling;
  }

  private reconcile(): void {
    this.reconciling = this.reconciling.then(() => this.applyWishes()).catch(() => {});
  }

  private async applyWishes(): Promise<void> {
    const page = this.ended ? undefined : this.tracker.current();
    const settings = this.ended
      ? undefined
      : combineSettings([
          ...[...this.viewers].map((v) => v.settings),
          ...[...this.sinks].map((s) => s.settings),
        ]);
    const want = page && settings ? { page, settings } : undefined;
    const cast = this.cast;
    if (cast && (!want || cast.page !== want.page)) {
      this.cast = undefined;
      this.viewport = undefined;
      cast.page.off("framenavigated", this.onNavigated).off("load", this.onLoad);
      await cast.stop();
    }
    if (!want) {
      if (!page && !this.ended && this.meta.url !== "") this.publishMeta("", "");
      return;
    }
    if (this.cast) {
      this.cast.setPulse(this.viewers.size === 0);
      if (!sameSettings(this.cast.settings, want.settings)) await this.cast.update(want.settings);
      return;
    }
    const started = await Screencast.start(this.context, want.page, want.settings, (f) =>
      this.onFrame(f),
    ).catch(() => undefined);
    if (!started) {
      // A tab in the middle of its first navigation can refuse ("Not attached to an active
      // page"); try again shortly. A closed tab is the tracker's business.
      if (!want.page.isClosed() && this.startRetries++ < START_RETRIES) {
        this.retryTimer = setTimeout(() => this.reconcile(), START_RETRY_MS);
      }
      return;
    }
    this.startRetries = 0;
    if (
      this.ended ||
      this.tracker.current() !== want.page ||
      this.viewers.size + this.sinks.size === 0
    ) {
      await started.stop();
      return this.reconcile();
    }
    this.cast = started;
    started.setPulse(this.viewers.size === 0);
    this.tellSinks(want.page, want.page.url());
    want.page.on("framenavigated", this.onNavigated).on("load", this.onLoad);
    void this.readMeta();
  }

  private onFrame(frame: ScreencastFrame): void {
    const encoded = encodeFrame({ seq: ++this.seq, ts: Date.now() }, frame.jpeg);
    this.lastFrame = encoded;
    const v = frame.viewport;
    if (this.viewport?.width !== v.width || this.viewport?.height !== v.height) {
      this.viewport = v;
      this.publishMeta(this.meta.url, this.meta.title);
    }
    for (const viewer of this.viewers) viewer.offerFrame(encoded);
    for (const sink of this.sinks) sink.frame(frame.jpeg);
    if (Date.now() - this.metaReadAt > META_REFRESH_MS) void this.readMeta();
  }

  /** Tells the sinks of a new page: another tab on show, or the same one at another address. */
  private tellSinks(page: unknown, url: string): void {
    const told = this.sinkPage;
    if (told && told.page === page && told.url === url) return;
    this.sinkPage = { page, url };
    for (const sink of this.sinks) sink.page(url);
  }

  /** Reads URL and title from the browser side (no script runs in the page). */
  private async readMeta(): Promise<void> {
    const cast = this.cast;
    if (!cast) return;
    this.metaReadAt = Date.now();
    const info = await cast.cdp.send("Target.getTargetInfo").catch(() => undefined);
    if (!info || cast !== this.cast) return;
    const { url, title } = info.targetInfo;
    if (url !== this.meta.url || title !== this.meta.title) this.publishMeta(url, title);
  }

  private publishMeta(url: string, title: string): void {
    this.meta = { type: "meta", url, title, viewport: this.viewport ?? null };
    for (const viewer of this.viewers) viewer.sendMessage(this.meta);
  }
}
