import fs from "node:fs";
import http from "node:http";
import type { Readable, Writable } from "node:stream";
import WebSocket, { WebSocketServer } from "ws";
import { CdpBacklog, DEFAULT_BACKLOG_LIMITS, type BacklogLimits } from "./backlog.js";
import type { ConnectionCap } from "./connection-cap.js";
import { PipeReader } from "./pipe-reader.js";
import { DOWNLOAD_METHODS, downloadCommand, keptDownloads } from "./download-policy.js";

/**
 * Many CDP clients over one browser's `--remote-debugging-pipe`, so that no debugging port
 * exists for anyone to find. Each client gets a browser-level session of its own
 * (`Target.attachToBrowserTarget`): its auto-attach, discovery and browser-wide settings are its
 * own, exactly as if it had its own WebSocket to the browser. The mux rewrites message ids so
 * clients never see each other's, and lets a client address only the sessions it attached.
 *
 * Limits: a client's messages are bounded by the WebSocket server that accepted it (maxPayload,
 * close 1009); when the pipe to the browser is full every client is paused until it drains, and
 * a new client is read from only once its browser session exists. What the browser sends the
 * tenant's clients (every WebSocket but the server's own) is held to one limit of unread bytes
 * and a deadline for reading them (see cdp-backlog.ts), counted while a reply still arrives.
 *
 * Given a `downloadDir` (a folder as the browser sees it), every download goes there under a
 * generated name, whatever a client sets (see download-policy.ts); a setting a departed client
 * made (Chromium resets it) and each new browser context get that folder back from the mux.
 */
export class CdpMux {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly rootCalls = new Map<number, (msg: CdpMessage) => void>();
  /** Every session id a client owns (its browser session and what it attached), to the client. */
  private readonly owners = new Map<string, MuxClient>();
  private readonly clients = new Set<MuxClient>();
  private readonly listeners = new Set<() => Promise<void>>();
  private readonly reader: PipeReader;
  private readonly backlog: CdpBacklog;
  private blocked = false;
  private closedFlag = false;

  constructor(
    private readonly toBrowser: Writable,
    fromBrowser: Readable,
    limits: BacklogLimits = DEFAULT_BACKLOG_LIMITS,
    private readonly downloadDir?: string,
  ) {
    this.backlog = new CdpBacklog(limits);
    this.reader = new PipeReader(
      (text) => this.fromBrowser(text),
      undefined,
      (head, bytes) => this.admit(head, bytes),
    );
    fromBrowser.on("data", (chunk: Buffer) => this.reader.push(chunk));
    fromBrowser.on("close", () => this.close());
    fromBrowser.on("error", () => this.close());
    toBrowser.on("error", () => this.close());
    toBrowser.on("drain", () => {
      this.blocked = false;
      for (const c of this.clients) this.flow(c);
    });
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Clients connected now, the server's own included. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Resolves once the browser answers on its pipe: it has started. */
  async ready(): Promise<void> {
    const reply = await this.rootCall("Browser.getVersion");
    if (!reply.result) throw new Error("the browser closed its CDP pipe during start");
    if (this.downloadDir) this.send(keptDownloads(this.downloadDir));
  }

  /**
   * Serves an already-open WebSocket as one CDP client: a tenant's, held to the unread limit,
   * unless `trusted` (the server's own Playwright connection, which always reads).
   */
  attach(ws: WebSocket, opts: { trusted?: boolean } = {}): void {
    if (this.closedFlag) return void ws.close(1001, "browser closed");
    const tenant = !opts.trusted;
    if (tenant) this.backlog.add(ws);
    const room = (bytes: number): boolean => {
      if (this.backlog.makeRoom(ws, bytes)) return true;
      this.backlog.tooLarge(ws, bytes);
      return false;
    };
    const client = this.addClient({
      deliver: (text) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        if (!tenant) return ws.send(text);
        const bytes = Buffer.byteLength(text);
        if (room(bytes)) this.backlog.send(ws, text, bytes);
      },
      room: tenant ? room : undefined,
      pause: () => ws.pause(),
      resume: () => ws.resume(),
      end: () => ws.terminate(),
    });
    ws.on("message", (data: WebSocket.RawData) => this.receive(client, String(data)));
    ws.on("close", () => {
      this.backlog.remove(ws);
      this.detach(client);
    });
    ws.on("error", () => ws.terminate());
  }

  /**
   * A client inside this process: `onMessage` gets what the browser sends it (its own browser
   * session's messages without a sessionId, as over a WebSocket). `onEnd` is called when the mux
   * drops it (the browser went away), so that it can settle what it still waits for.
   */
  connect(
    onMessage: (text: string) => void,
    onEnd?: () => void,
  ): { send(text: string): void; close(): void } {
    const port: ClientPort = {
      deliver: onMessage,
      pause: () => {},
      resume: () => {},
      end: () => {},
    };
    const client = this.addClient(port);
    port.end = () => {
      this.detach(client);
      onEnd?.();
    };
    return { send: (text) => this.receive(client, text), close: () => this.detach(client) };
  }

  private addClient(port: ClientPort): MuxClient {
    const client: MuxClient = {
      port,
      browserSession: undefined,
      queue: [],
      downloadContexts: new Set(),
    };
    this.clients.add(client);
    // What it sends before its browser session exists waits in its own socket, not here.
    port.pause();
    this.rootCall("Target.attachToBrowserTarget").then(
      (reply) => {
        const sessionId = reply.result?.sessionId as string | undefined;
        if (!sessionId || !this.clients.has(client)) {
          if (sessionId) this.send({ method: "Target.detachFromTarget", params: { sessionId } });
          return port.end();
        }
        client.browserSession = sessionId;
        this.owners.set(sessionId, client);
        for (const text of client.queue.splice(0)) this.fromClient(client, text);
        this.flow(client);
      },
      () => port.end(),
    );
    return client;
  }

  /** Reads from a client while the pipe has room and its browser session exists. */
  private flow(client: MuxClient): void {
    if (this.blocked || !client.browserSession) client.port.pause();
    else client.port.resume();
  }

  private receive(client: MuxClient, text: string): void {
    if (client.browserSession) this.fromClient(client, text);
    else if (client.queue.push(text) > MAX_EARLY_MESSAGES) client.port.end();
  }

  /**
   * Takes every WebSocket upgrade `server` gets as one more client of this browser, within the
   * listener's connection cap and message size.
   */
  serve(server: http.Server, opts: ListenOptions): WebSocketServer {
    const wss = new WebSocketServer({
      server,
      maxPayload: opts.maxMessageBytes,
      perMessageDeflate: false,
      verifyClient: opts.cap?.verify,
    });
    wss.on("connection", (ws) => {
      opts.cap?.take(ws);
      this.attach(ws, { trusted: opts.trusted });
    });
    return wss;
  }

  /**
   * Accepts CDP clients on a unix socket (`ws+unix://<path>:/`), readable and writable only by
   * this process's user (a sandbox gets it chowned to its own). Closed with the mux.
   */
  async listen(
    socketPath: string,
    opts: ListenOptions,
  ): Promise<{ url: string; close(): Promise<void> }> {
    const server = http.createServer((_req, res) => res.writeHead(404).end());
    const wss = this.serve(server, opts);
    fs.rmSync(socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, () => resolve());
    });
    fs.chmodSync(socketPath, 0o600);
    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= new Promise<void>((resolve) => {
        this.listeners.delete(close);
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.close(() => {
          fs.rmSync(socketPath, { force: true });
          resolve();
        });
        server.closeAllConnections();
      }));
    this.listeners.add(close);
    return { url: `ws+unix://${socketPath}:/`, close };
  }

  /** Ends every client and listener; the pipe itself belongs to the browser process. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.backlog.stop();
    for (const c of this.clients) c.port.end();
    this.clients.clear();
    for (const close of this.listeners) void close();
    // Nobody will answer these now.
    for (const settle of this.rootCalls.values()) settle({});
    this.rootCalls.clear();
  }

  private detach(client: MuxClient): void {
    if (!this.clients.delete(client)) return;
    client.port.end = () => {};
    for (const [sessionId, owner] of this.owners) {
      if (owner === client) this.owners.delete(sessionId);
    }
    for (const [id, p] of this.pending) if (p.client === client) this.pending.delete(id);
    // Child sessions go with the browser session that attached them.
    if (client.browserSession && !this.closedFlag) {
      this.send({
        method: "Target.detachFromTarget",
        params: { sessionId: client.browserSession },
      });
      // Chromium puts the download settings of a departing session back to its default.
      for (const context of client.downloadContexts) {
        this.send(keptDownloads(this.downloadDir!, context || undefined));
      }
    }
  }

  private fromClient(client: MuxClient, text: string): void {
    let msg: CdpMessage;
    try {
      msg = JSON.parse(text) as CdpMessage;
    } catch {
      return client.port.end();
    }
    if (typeof msg !== "object" || msg === null || typeof msg.id !== "number") {
      return client.port.end();
    }
    const sessionId = msg.sessionId ?? client.browserSession!;
    if (this.owners.get(sessionId) !== client) {
      const error = { code: -32001, message: "Session with given id not found." };
      return this.reply(client, JSON.stringify({ id: msg.id, error, sessionId: msg.sessionId }));
    }
    if (this.downloadDir && DOWNLOAD_METHODS.has(String(msg.method))) {
      const command = downloadCommand(String(msg.method), msg.params, this.downloadDir);
      if ("answer" in command) {
        return this.reply(
          client,
          JSON.stringify({ id: msg.id, result: {}, sessionId: msg.sessionId }),
        );
      }
      msg.params = command.forward;
      if (msg.method === "Browser.setDownloadBehavior") {
        const context = msg.params?.browserContextId;
        client.downloadContexts.add(typeof context === "string" ? context : "");
      }
    }
    const id = this.nextId++;
    this.pending.set(id, { client, id: msg.id, method: String(msg.method) });
    this.send({ ...msg, id, sessionId });
  }

  private fromBrowser(text: string): void {
    const head = ID_HEAD.exec(text.slice(0, 32));
    const tail = SESSION_TAIL.exec(text.slice(-96));
    if (head) {
      const id = Number(head[1]);
      const root = this.rootCalls.get(id);
      if (root) {
        this.rootCalls.delete(id);
        return root(JSON.parse(text) as CdpMessage);
      }
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      if (ATTACHING.has(p.method)) this.own(p.client, JSON.parse(text)?.result?.sessionId);
      if (p.method === "Target.createBrowserContext" && this.downloadDir) {
        const context = (JSON.parse(text) as CdpMessage).result?.browserContextId;
        if (typeof context === "string") this.send(keptDownloads(this.downloadDir, context));
      }
      let out = `{"id":${p.id},` + text.slice(head[0].length);
      if (tail && tail[1] === p.client.browserSession) out = stripTail(out, tail[0]);
      return this.reply(p.client, out);
    }
    const sessionId = tail?.[1];
    const owner = sessionId === undefined ? undefined : this.owners.get(sessionId);
    if (!owner || !tail) return; // the root connection's own events, or a session already gone
    if (text.startsWith('{"method":"Target.attachedToTarget"')) {
      this.own(owner, (JSON.parse(text) as CdpMessage).params?.sessionId);
    } else if (text.startsWith('{"method":"Target.detachedFromTarget"')) {
      const gone = (JSON.parse(text) as CdpMessage).params?.sessionId;
      if (typeof gone === "string" && this.owners.get(gone) === owner) this.owners.delete(gone);
    }
    this.reply(owner, sessionId === owner.browserSession ? stripTail(text, tail[0]) : text);
  }

  /**
   * Whether a reply still arriving from the browser, `bytes` so far, may go on being read: its
   * recipient must have room for it (a tenant's WebSocket; see CdpBacklog), and someone must
   * still wait for it. Events say whose they are only at their end, and are taken whole.
   */
  private admit(head: string, bytes: number): boolean {
    const id = ID_HEAD.exec(head);
    if (!id) return true;
    const n = Number(id[1]);
    if (this.rootCalls.has(n)) return true;
    const p = this.pending.get(n);
    return p ? (p.client.port.room?.(bytes) ?? true) : false;
  }

  private own(client: MuxClient, sessionId: unknown): void {
    if (typeof sessionId === "string" && this.clients.has(client)) {
      this.owners.set(sessionId, client);
    }
  }

  private reply(client: MuxClient, text: string): void {
    client.port.deliver(text);
  }

  private rootCall(method: string, params: object = {}): Promise<CdpMessage> {
    if (this.closedFlag) return Promise.reject(new Error("browser closed"));
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.rootCalls.set(id, resolve);
      this.send({ id, method, params });
    });
  }

  private send(msg: Record<string, unknown>): void {
    if (this.closedFlag) return;
    if (msg.id === undefined) msg = { ...msg, id: this.nextId++ };
    if (!this.toBrowser.write(JSON.stringify(msg) + "\0") && !this.blocked) {
      this.blocked = true;
      for (const c of this.clients) c.port.pause();
    }
  }
}

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  sessionId?: string;
}

/** How a WebSocket listener of the mux serves its clients. */
export interface ListenOptions {
  /** Largest message a client may send; a bigger one closes its connection with 1009. */
  maxMessageBytes: number;
  /** The server's own connections: not held to the tenant's unread limit. */
  trusted?: boolean;
  /** Counts the listener's connections (with others sharing it) and refuses past its limit. */
  cap?: ConnectionCap;
}

/** How the mux talks to one client, whatever carries it. */
interface ClientPort {
  deliver(text: string): void;
  /**
   * Whether a message of `bytes` still arriving for it may be held; a tenant's WebSocket says
   * no (and is cut off) past its unread limit. Absent: always.
   */
  room?(bytes: number): boolean;
  pause(): void;
  resume(): void;
  /** Drops the client (protocol error, browser gone). */
  end(): void;
}

interface MuxClient {
  port: ClientPort;
  /** Set once the browser granted this client its own browser-level session. */
  browserSession: string | undefined;
  /** Messages that arrived before that. */
  queue: string[];
  /** Browser contexts whose downloads it set ("" for the default one). */
  downloadContexts: Set<string>;
}

interface Pending {
  client: MuxClient;
  /** The client's own id for this command. */
  id: number;
  method: string;
}

/** Commands whose reply names a session the caller now owns. */
const ATTACHING = new Set(["Target.attachToTarget", "Target.attachToBrowserTarget"]);
/** Messages a client may send before its browser session exists (a few ms after connecting). */
const MAX_EARLY_MESSAGES = 1_000;
// Chromium writes "id" first and "sessionId" last, which lets replies be routed (and a
// screenshot's megabytes passed on) without parsing them.
const ID_HEAD = /^\{"id":(\d+),/;
const SESSION_TAIL = /,"sessionId":"([0-9A-Za-z._-]+)"\}$/;

function stripTail(text: string, tail: string): string {
  return text.slice(0, text.length - tail.length) + "}";
}
