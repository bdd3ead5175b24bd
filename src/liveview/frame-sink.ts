import type { StreamSettings } from "./settings.js";

/**
 * Something besides viewers that takes a session's frames (a recording): while one is attached
 * the screencast runs whether anyone watches or not, at no less than its settings ask for.
 * Calls come on the server's event loop and must return at once: a sink never slows the stream.
 */
export interface FrameSink {
  readonly settings: StreamSettings;
  /**
   * The tab on show changed, or it went to another address: what follows is a new page.
   * `url` is the address it shows ("" while it has none).
   */
  page(url: string): void;
  /** A frame of the page on show: a JPEG, as Chromium captured it. */
  frame(jpeg: Buffer): void;
}
