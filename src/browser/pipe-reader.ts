/** Longest message read from the browser; longer ones are dropped (a client asked for too much). */
const MAX_BROWSER_MESSAGE = 256 * 1024 * 1024;

/**
 * Splits the byte stream of Chromium's --remote-debugging-pipe into its NUL-terminated JSON
 * messages, dropping oversized ones without holding them in memory.
 */
export class PipeReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private skipping = false;

  constructor(
    private readonly onMessage: (text: string) => void,
    private readonly maxBytes = MAX_BROWSER_MESSAGE,
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
      if (this.size > this.maxBytes) {
        this.chunks = [];
        this.size = 0;
        this.skipping = true;
      }
    }
  }
}
