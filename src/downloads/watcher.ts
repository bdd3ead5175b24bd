import fs from "node:fs/promises";
import path from "node:path";
import type { ChromiumProcess } from "../chromium/chromium-process.js";
import type { Logger } from "../log/logger.js";

/** A download the browser finished, read back from its folder. */
export interface FinishedDownload {
  /** The page's name for it, as Chromium suggested it (not yet cleaned). */
  name: string;
  bytes: Buffer;
}

/** A download refused for the quota: cancelled in the browser, or finished past it. */
export interface RefusedDownload {
  name: string;
  /** What it had (or would have) reached when refused. */
  size: number;
}

/** Where a watcher hands what it sees. */
export interface DownloadSink {
  kept(d: FinishedDownload): Promise<void>;
  refused(d: RefusedDownload): Promise<void>;
}

interface Going {
  name: string;
  received: number;
  refused: boolean;
}

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message?: string };
}

/** Chromium names each download by its guid in the folder (allowAndName). */
const GUID = /^[0-9A-Za-z-]{1,64}$/;

/**
 * Watches one browser's downloads on a CDP connection of the server's own (a browser session of
 * the mux, with download events on), whoever started them: code in any language, the agent, a
 * tenant's CDP client. Each finished download is read from the browser's download folder
 * (see cdp/download-policy.ts) and handed to the sink, then removed from the browser's storage;
 * one that would take the session past `quotaBytes` is cancelled in the browser and reported
 * refused.
 */
export class DownloadWatcher {
  private readonly going = new Map<string, Going>();
  private readonly calls = new Map<number, (msg: CdpMessage) => void>();
  private readonly saving = new Set<Promise<void>>();
  private keptBytes = 0;
  private nextId = 1;
  private connection: { send(text: string): void; close(): void } | undefined;

  constructor(
    private readonly proc: Pick<ChromiumProcess, "cdp" | "downloads">,
    private readonly quotaBytes: number,
    private readonly sink: DownloadSink,
    private readonly log: Pick<Logger, "warn">,
  ) {}

  /** Connects and turns download events on; resolves once the browser has taken it. */
  async start(): Promise<void> {
    this.connection = this.proc.cdp.connect(
      (text) => this.receive(text),
      () => this.ended(),
    );
    const reply = await this.call("Browser.setDownloadBehavior", {
      behavior: "allowAndName",
      downloadPath: this.proc.downloads.dir,
      eventsEnabled: true,
    });
    if (reply.error) throw new Error(`download events: ${reply.error.message}`);
  }

  /** Waits for the downloads being saved now; then stops watching. */
  async finish(): Promise<void> {
    while (this.saving.size > 0) await Promise.all([...this.saving]);
    this.connection?.close();
    this.ended();
  }

  private ended(): void {
    this.connection = undefined;
    for (const settle of this.calls.values()) settle({});
    this.calls.clear();
  }

  private call(method: string, params: object): Promise<CdpMessage> {
    const connection = this.connection;
    if (!connection) return Promise.resolve({ error: { message: "not connected" } });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.calls.set(id, resolve);
      connection.send(JSON.stringify({ id, method, params }));
    });
  }

  private receive(text: string): void {
    let msg: CdpMessage;
    try {
      msg = JSON.parse(text) as CdpMessage;
    } catch {
      return;
    }
    if (typeof msg.id === "number") {
      const settle = this.calls.get(msg.id);
      this.calls.delete(msg.id);
      return settle?.(msg);
    }
    const p = msg.params ?? {};
    const guid = typeof p.guid === "string" && GUID.test(p.guid) ? p.guid : undefined;
    if (!guid) return;
    if (msg.method === "Browser.downloadWillBegin") {
      const name = typeof p.suggestedFilename === "string" ? p.suggestedFilename : "";
      this.going.set(guid, { name, received: 0, refused: false });
    } else if (msg.method === "Browser.downloadProgress") {
      const g = this.going.get(guid);
      if (!g) return;
      g.received = Number(p.receivedBytes) || 0;
      if (p.state === "inProgress") {
        const expected = Math.max(g.received, Number(p.totalBytes) || 0);
        if (!g.refused && this.over(guid, expected)) this.refuse(guid, g, expected);
      } else {
        this.going.delete(guid);
        if (p.state === "completed" && !g.refused) this.track(this.save(guid, g));
      }
    }
  }

  /** Whether `bytes` more for `guid` would take the session past its quota. */
  private over(guid: string, bytes: number): boolean {
    let others = 0;
    for (const [id, g] of this.going) if (id !== guid && !g.refused) others += g.received;
    return this.keptBytes + others + bytes > this.quotaBytes;
  }

  private refuse(guid: string, g: Going, size: number): void {
    g.refused = true;
    this.track(
      (async () => {
        await this.cancel(guid);
        await this.sink.refused({ name: g.name, size });
      })(),
    );
  }

  /** Cancels in the browser: in the default context, else in whichever context has it. */
  private async cancel(guid: string): Promise<void> {
    if (!(await this.call("Browser.cancelDownload", { guid })).error) return;
    const contexts = (await this.call("Target.getBrowserContexts", {})).result?.browserContextIds;
    for (const browserContextId of Array.isArray(contexts) ? contexts : []) {
      if (!(await this.call("Browser.cancelDownload", { guid, browserContextId })).error) return;
    }
  }

  private async save(guid: string, g: Going): Promise<void> {
    const dir = this.proc.downloads.hostDir();
    if (!dir) return;
    const file = path.join(dir, guid);
    try {
      const { size } = await fs.stat(file);
      if (this.keptBytes + size > this.quotaBytes) {
        await this.sink.refused({ name: g.name, size });
        return;
      }
      this.keptBytes += size;
      await this.sink.kept({ name: g.name, bytes: await fs.readFile(file) });
    } finally {
      // Kept or not, it leaves the browser's storage, which it would otherwise fill.
      await fs.rm(file, { force: true }).catch(() => {});
    }
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((err: unknown) => {
      this.log.warn({ err }, "a session's download could not be kept");
    });
    this.saving.add(tracked);
    void tracked.finally(() => this.saving.delete(tracked));
  }
}
