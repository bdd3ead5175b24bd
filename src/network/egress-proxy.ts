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
}

/** Header on the proxy's own error answers to plain-HTTP requests, so a scrape can tell them apart. */
export const EGRESS_FAILURE_HEADER = "x-egress-failure";

export interface EgressProxyOptions {
  /** True for an address (and port) that must not be reached. */
  isBlocked(address: string, port: number): boolean;
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

/**
 * A forward proxy for browsers whose reach we limit: a scrape's context when private networks are
 * off limits, and every session browser (debugging ports, and private networks when off limits).
 * Every connection the page makes (documents, redirects, subresources, WebSockets) comes through
 * here; the proxy resolves the host itself, refuses it if any address is blocked, and connects to
 * the address it checked, so a DNS answer cannot change between the check and the connection.
 */
export class EgressProxy {
  private readonly failures = new Map<string, EgressFailure>();
  private readonly sockets = new Set<net.Socket>();
  private readonly agent = new http.Agent({ keepAlive: true });

  private constructor(
    private readonly server: http.Server,
    private readonly opts: EgressProxyOptions,
  ) {}

  /** Starts a proxy on a random loopback port. */
  static async start(opts: EgressProxyOptions): Promise<EgressProxy> {
    const server = http.createServer();
    const proxy = new EgressProxy(server, opts);
    server.on("request", (req, res) => void proxy.forward(req, res));
    server.on("connect", (req, socket: net.Socket, head: Buffer) => {
      void proxy.tunnel(req, socket, head);
    });
    server.on("upgrade", (_req, socket: net.Socket) => socket.destroy());
    server.on("connection", (s: net.Socket) => proxy.track(s));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  /** The proxy URL for Playwright's `proxy.server`. */
  get url(): string {
    const { port } = this.server.address() as net.AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** The last failure seen for a host (name or IP literal as it appeared in the URL). */
  failureFor(host: string): EgressFailure | undefined {
    return this.failures.get(host.replace(/^\[|\]$/g, "").toLowerCase());
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.agent.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.once("close", () => this.sockets.delete(s));
    s.on("error", () => {});
  }

  private record(f: EgressFailure): EgressFailure {
    const host = f.host.replace(/^\[|\]$/g, "").toLowerCase();
    this.failures.set(host, { ...f, host });
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
        return this.record({ kind: "dns", host });
      }
      if (addresses.length === 0) return this.record({ kind: "dns", host });
    }
    const bad = addresses.find((a) => this.opts.isBlocked(a, port));
    if (bad !== undefined) return this.record({ kind: "blocked", host, address: bad });
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
      const f = this.record({ kind: classify(err), host: url.hostname, address: target.address });
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
      const f = this.record({ kind: classify(err), host: m[1]!, address: target.address });
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
