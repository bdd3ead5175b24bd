/** Longest message read from the browser; longer ones are dropped (a client asked for too much). */
const MAX_BROWSER_MESSAGE = 256 * 1024 * 1024;
/** Below this, a message being read is not worth asking about: it is taken whole. */
const ADMIT_FROM_BYTES = 1024 * 1024;
/** Enough of a message's start to say whose it is (`{"id":123456789,`). */
const HEAD_BYTES = 32;

/**
 * Whether a message still being read, `bytes` long so far, may grow further; `head` is its
 * start. False drops it: the rest is skipped without being held.
 */
export type Admit = (head: string, bytes: number) => boolean;

/**
 * Splits the byte stream of Chromium's --remote-debugging-pipe into its NUL-terminated JSON
 * messages, dropping oversized ones without holding them in memory. A message over 1 MB is
 * held only while `admit` agrees, asked again as it grows: its recipient's room is counted
 * while it arrives, not once it is whole.
 */
export class PipeReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private skipping = false;

  constructor(
    private readonly onMessage: (text: string) => void,
    private readonly maxBytes = MAX_BROWSER_MESSAGE,
    private readonly admit: Admit = () => true,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    let end: number;
    while ((end = chunk.indexOf(0, start)) >= 0) {
      if (!this.skipping) {
        this.chunks.push(chunk.subarray(start, end));
        const text = Buffer.concat(this.chunks).toString("utf8");
        this.chunks = [];
        this.size = 0;
        this.onMessage(text);
      }
      this.skipping = false;
      start = end + 1;
    }
    if (start < chunk.length && !this.skipping) {
      this.chunks.push(chunk.subarray(start));
      this.size += chunk.length - start;
      if (
        this.size > this.maxBytes ||
        (this.size >= ADMIT_FROM_BYTES && !this.admit(this.head(), this.size))
      ) {
        this.chunks = [];
        this.size = 0;
        this.skipping = true;
      }
    }
  }

  private head(): string {
    const parts: Buffer[] = [];
    let length = 0;
    for (const c of this.chunks) {
      if (length >= HEAD_BYTES) break;
      parts.push(c);
      length += c.length;
    }
    return Buffer.concat(parts).subarray(0, HEAD_BYTES).toString("latin1");
  }
}
