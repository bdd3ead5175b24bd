import type { BrowserContext, CDPSession, Page } from "playwright-core";
import type { StreamSettings } from "./settings.js";

export interface ScreencastFrame {
  jpeg: Buffer;
  /** The page's CSS viewport, which input coordinates are scaled to. */
  viewport: { width: number; height: number };
}

/** How long after a held-back ack we wait for a frame before asking for a fresh one. */
const SETTLE_MS = 100;

interface FrameEvent {
  data: string;
  sessionId: number;
  metadata: { deviceWidth: number; deviceHeight: number };
}

/**
 * One CDP screencast of one page. Chromium sends a frame only when the page changes and keeps
 * at most a couple unacknowledged, dropping captures beyond that. We forward every frame at once
 * (lowest delay) but space the acks at the frame rate, which caps how often Chromium encodes a
 * JPEG however fast the page animates. A capture dropped that way can be the page's final state,
 * so when a held-back ack is not followed by a frame soon, the screencast is restarted, which
 * makes Chromium send the current picture.
 */
export class Screencast {
  private nextAckAt = 0;
  private settleTimer: NodeJS.Timeout | undefined;
  private ackTimers = new Set<NodeJS.Timeout>();
  private awaitingRefresh = false;
  private stopped = false;

  private constructor(
    readonly page: Page,
    readonly cdp: CDPSession,
    private current: StreamSettings,
    private readonly onFrame: (frame: ScreencastFrame) => void,
  ) {}

  /** Attaches to a page and starts streaming it. */
  static async start(
    context: BrowserContext,
    page: Page,
    settings: StreamSettings,
    onFrame: (frame: ScreencastFrame) => void,
  ): Promise<Screencast> {
    const cdp = await context.newCDPSession(page);
    const cast = new Screencast(page, cdp, settings, onFrame);
    cdp.on("Page.screencastFrame", (e) => cast.handleFrame(e as FrameEvent));
    try {
      await cast.startCapture();
    } catch (err) {
      await cast.stop();
      throw err;
    }
    return cast;
  }

  get settings(): StreamSettings {
    return this.current;
  }

  /** Applies new quality, size or rate; Chromium takes new parameters only on a restart. */
  async update(settings: StreamSettings): Promise<void> {
    this.current = settings;
    await this.restart();
  }

  /** Stops the screencast and lets go of the page. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.settleTimer);
    for (const t of this.ackTimers) clearTimeout(t);
    this.ackTimers.clear();
    await this.cdp.send("Page.stopScreencast").catch(() => {});
    await this.cdp.detach().catch(() => {});
  }

  private startCapture(): Promise<unknown> {
    const { quality, maxWidth } = this.current;
    return this.cdp.send("Page.startScreencast", {
      format: "jpeg",
      quality,
      maxWidth,
      // Width is the bound that matters; leave room for tall (mobile) viewports.
      maxHeight: maxWidth * 2,
    });
  }

  private async restart(): Promise<void> {
    if (this.stopped) return;
    this.awaitingRefresh = true;
    await this.cdp.send("Page.stopScreencast").catch(() => {});
    if (!this.stopped) await this.startCapture().catch(() => {});
  }

  private handleFrame(e: FrameEvent): void {
    if (this.stopped) return;
    clearTimeout(this.settleTimer);
    const fromRefresh = this.awaitingRefresh;
    this.awaitingRefresh = false;
    this.onFrame({
      jpeg: Buffer.from(e.data, "base64"),
      viewport: { width: e.metadata.deviceWidth, height: e.metadata.deviceHeight },
    });

    const now = Date.now();
    const at = Math.max(now, this.nextAckAt);
    this.nextAckAt = at + 1000 / this.current.fps;
    const ack = () => {
      if (this.stopped) return;
      void this.cdp.send("Page.screencastFrameAck", { sessionId: e.sessionId }).catch(() => {});
      // A held-back ack means Chromium may have dropped a capture meanwhile. The frame a refresh
      // produced is the current picture already, so it never asks for another (no loop).
      if (at > now && !fromRefresh) {
        clearTimeout(this.settleTimer);
        this.settleTimer = setTimeout(() => void this.restart(), SETTLE_MS);
      }
    };
    if (at <= now) return ack();
    const timer = setTimeout(() => {
      this.ackTimers.delete(timer);
      ack();
    }, at - now);
    this.ackTimers.add(timer);
  }
}
