import dns from "node:dns";
import http from "node:http";
import net from "node:net";

/** Why the proxy refused or failed a connection. */
export type EgressFailureKind = "blocked" | "dns" | "refused" | "unreachable";

export interface EgressFailure {
  kind: EgressFailureKind;
  host: string;
  /** The address that was blocked or could not be reached. */
  address?: string;
  /** The port it was asked for. */
  port?: number;
  /** Why a blocked address is blocked. */
  reason?: BlockReason;
  /** When it happened (ms since the epoch). */
  at?: number;
}

/** Why the policy refuses an address: a private network, or this server itself. */
export type BlockReason = "private" | "this-server";

/** Header on the proxy's own error answers to plain-HTTP requests, so a scrape can tell them apart. */
export const EGRESS_FAILURE_HEADER = "x-egress-failure";

export interface EgressProxyOptions {
  /** Why an address (and port) must not be reached, or undefined when it may be. */
  isBlocked(address: string, port: number): BlockReason | undefined;
  lookup?: (host: string) => Promise<string[]>;
}

const HOP_BY_HOP = new Set([
  "connection",
  "proxy-connection",
  "keep-alive",
  "proxy-authorization",
  "te",
  "trailer",
  "upgrade",
]);

async function systemLookup(host: string): Promise<string[]> {
  const all = await dns.promises.lookup(host, { all: true, verbatim: true });
  return all.map((a) => a.address);
}

function classify(err: NodeJS.ErrnoException): EgressFailureKind {
  if (err.code === "ECONNREFUSED") return "refused";
  if (err.code === "ENOTFOUND" || err.code === "EAI_AGAIN" || err.code === "EAI_NONAME") {
    return "dns";
  }
  return "unreachable";
}

/** How many hosts' last failures are remembered, for a scrape to say why its page did not load. */
const MAX_FAILURES = 1024;

/**
 * The forward proxy every browser's traffic goes through. A jailed browser has no network but
 * a listening socket in its own namespace that this proxy serves (serve()); an unjailed one is
 * pointed at a loopback port (tcpUrl()). Every connection the page makes (documents,
 * redirects, subresources, WebSockets) comes through here; the proxy resolves the host itself,
 * refuses it if any address is blocked, and connects to the address it checked, so a DNS answer
 * cannot change between the check and the connection.
 */
export class EgressProxy {
  private readonly failures = new Map<string, EgressFailure>();
  private readonly sockets = new Set<net.Socket>();
  private readonly listeners = new Set<net.Server>();
  private readonly agent = new http.Agent({ keepAlive: true });
  private tcp: Promise<string> | undefined;

  private constructor(
    private readonly server: http.Server,
    private readonly opts: EgressProxyOptions,
  ) {}

  /** A proxy that serves nothing yet: hand it listeners with serve(), or ask for tcpUrl(). */
  static create(opts: EgressProxyOptions): EgressProxy {
    const server = http.createServer();
    const proxy = new EgressProxy(server, opts);
    server.on("request", (req, res) => void proxy.forward(req, res));
    server.on("connect", (req, socket: net.Socket, head: Buffer) => {
      void proxy.tunnel(req, socket, head);
    });
    server.on("upgrade", (_req, socket: net.Socket) => socket.destroy());
    server.on("connection", (s: net.Socket) => proxy.track(s));
    return proxy;
  }

  /** Serves proxy requests arriving on `listener` (a jail's egress socket) until it closes. */
  serve(listener: net.Server): void {
    this.listeners.add(listener);
    listener.on("connection", (s: net.Socket) => this.server.emit("connection", s));
    listener.once("close", () => this.listeners.delete(listener));
  }

  /** A loopback URL for browsers that run without a jail, listening from the first call. */
  tcpUrl(): Promise<string> {
    this.tcp ??= new Promise<string>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => {
        const { port } = this.server.address() as net.AddressInfo;
        resolve(`http://127.0.0.1:${port}`);
      });
    });
    return this.tcp;
  }

  /**
   * The last failure seen for a host (name or IP literal as it appeared in the URL) and port at
   * or after `since`. Browsers of every tenant share this proxy: a failure is only ever matched to
   * the very host and port a navigation asked for, so it never tells one page about another's.
   */
  failureFor(host: string, port: number, since = 0): EgressFailure | undefined {
    const f = this.failures.get(failureKey(host, port));
    return f && (f.at ?? 0) >= since ? f : undefined;
  }

  async close(): Promise<void> {
    for (const l of this.listeners) l.close();
    for (const s of this.sockets) s.destroy();
    this.agent.destroy();
    if (this.tcp) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.once("close", () => this.sockets.delete(s));
    s.on("error", () => {});
  }

  private record(f: EgressFailure): EgressFailure {
    const host = f.host.replace(/^\[|\]$/g, "").toLowerCase();
    const key = failureKey(host, f.port ?? 0);
    this.failures.delete(key);
    this.failures.set(key, { ...f, host, at: Date.now() });
    if (this.failures.size > MAX_FAILURES) {
      this.failures.delete(this.failures.keys().next().value!);
    }
    return f;
  }

  /** Resolves and checks a host: the address to connect to, or why not. */
  private async resolve(
    rawHost: string,
    port: number,
  ): Promise<{ address: string } | EgressFailure> {
    const host = rawHost.replace(/^\[|\]$/g, "").toLowerCase();
    let addresses: string[];
    if (net.isIP(host)) {
      addresses = [host];
    } else {
      try {
        addresses = await (this.opts.lookup ?? systemLookup)(host);
      } catch {
        return this.record({ kind: "dns", host, port });
      }
      if (addresses.length === 0) return this.record({ kind: "dns", host, port });
    }
    for (const address of addresses) {
      const reason = this.opts.isBlocked(address, port);
      if (reason) return this.record({ kind: "blocked", host, address, port, reason });
    }
    return { address: addresses[0]! };
  }

  private async forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? "");
      if (url.protocol !== "http:") throw new Error("not http");
    } catch {
      res.writeHead(400).end();
      return;
    }
    const target = await this.resolve(url.hostname, Number(url.port || 80));
    if ("kind" in target) return refuse(res, target);
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k)) headers[k] = v;
    const upstream = http.request({
      host: target.address,
      port: url.port || 80,
      method: req.method,
      path: url.pathname + url.search,
      headers,
      agent: this.agent,
      setHost: false,
    });
    upstream.on("response", (up) => {
      const raw: string[] = [];
      for (let i = 0; i < up.rawHeaders.length; i += 2) {
        if (!HOP_BY_HOP.has(up.rawHeaders[i]!.toLowerCase())) {
          raw.push(up.rawHeaders[i]!, up.rawHeaders[i + 1]!);
        }
      }
      res.writeHead(up.statusCode ?? 502, up.statusMessage, raw);
      up.pipe(res);
    });
    upstream.on("error", (err: NodeJS.ErrnoException) => {
      const f = this.record({
        kind: classify(err),
        host: url.hostname,
        address: target.address,
        port: Number(url.port || 80),
      });
      if (res.headersSent) res.destroy();
      else refuse(res, f);
    });
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  private async tunnel(req: http.IncomingMessage, socket: net.Socket, head: Buffer): Promise<void> {
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(req.url ?? "");
    if (!m) {
      socket.end("HTTP/1.1 400 Bad Request\r\n\r\n");
      return;
    }
    const target = await this.resolve(m[1]!, Number(m[2]));
    if ("kind" in target) {
      const status = target.kind === "blocked" ? "403 Forbidden" : "502 Bad Gateway";
      socket.end(`HTTP/1.1 ${status}\r\n${EGRESS_FAILURE_HEADER}: ${target.kind}\r\n\r\n`);
      return;
    }
    const upstream = net.connect(Number(m[2]), target.address);
    this.track(upstream);
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on("error", (err: NodeJS.ErrnoException) => {
      if (connected) return socket.destroy();
      const f = this.record({
        kind: classify(err),
        host: m[1]!,
        address: target.address,
        port: Number(m[2]),
      });
      socket.end(`HTTP/1.1 502 Bad Gateway\r\n${EGRESS_FAILURE_HEADER}: ${f.kind}\r\n\r\n`);
    });
    socket.once("close", () => upstream.destroy());
  }
}

function refuse(res: http.ServerResponse, f: EgressFailure): void {
  res.writeHead(f.kind === "blocked" ? 403 : 502, {
    "content-type": "text/plain",
    [EGRESS_FAILURE_HEADER]: f.kind,
  });
  res.end(f.kind === "blocked" ? "Blocked by the server's network policy" : "Upstream unreachable");
}

function failureKey(host: string, port: number): string {
  return `${host.replace(/^\[|\]$/g, "").toLowerCase()} ${port}`;
}
