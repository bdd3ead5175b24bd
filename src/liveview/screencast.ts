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
  /** Between frames the capture is off (see `pulse`); the timer turns it back on. */
  private pulseTimer: NodeJS.Timeout | undefined;
  private pulsing = false;
  private lastJpeg: Buffer | undefined;

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

  /**
   * Whether the capture is turned off between frames, back on at the next frame's slot: for a
   * stream nobody watches live (a recording), whose frames may come late. Cheaper than a
   * capture left on for a page that animates; a restart whose frame is the picture before
   * leaves the capture on, so a still page gets no frame until it changes.
   */
  setPulse(on: boolean): void {
    if (this.pulsing === on) return;
    this.pulsing = on;
    if (!on && this.pulseTimer) {
      clearTimeout(this.pulseTimer);
      this.pulseTimer = undefined;
      void this.restart();
    }
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
    clearTimeout(this.pulseTimer);
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

  /**
   * A frame while pulsing: passed on, then the capture is off until the next slot. A restart's
   * frame that is the picture before means nothing changed: the capture stays on (acked), and
   * the next frame comes when the page changes.
   */
  private pulse(e: FrameEvent, unchanged: boolean, jpeg: Buffer): void {
    void this.cdp.send("Page.screencastFrameAck", { sessionId: e.sessionId }).catch(() => {});
    if (unchanged) return;
    this.onFrame({
      jpeg,
      viewport: { width: e.metadata.deviceWidth, height: e.metadata.deviceHeight },
    });
    void this.cdp.send("Page.stopScreencast").catch(() => {});
    this.pulseTimer = setTimeout(() => {
      this.pulseTimer = undefined;
      if (this.stopped) return;
      this.awaitingRefresh = true;
      void this.startCapture().catch(() => {});
    }, 1000 / this.current.fps);
  }

  private async restart(): Promise<void> {
    if (this.stopped) return;
    this.awaitingRefresh = true;
    await this.cdp.send("Page.stopScreencast").catch(() => {});
    if (!this.stopped) await this.startCapture().catch(() => {});
  }

  private handleFrame(e: FrameEvent): void {
    if (this.stopped || this.pulseTimer) return;
    clearTimeout(this.settleTimer);
    const fromRefresh = this.awaitingRefresh;
    this.awaitingRefresh = false;
    const jpeg = Buffer.from(e.data, "base64");
    const same = this.lastJpeg?.equals(jpeg) ?? false;
    this.lastJpeg = jpeg;
    if (this.pulsing) return this.pulse(e, fromRefresh && same, jpeg);
    this.onFrame({
      jpeg,
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
