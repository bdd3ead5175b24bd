import fs from "node:fs";
import net from "node:net";
import path from "node:path";

export interface PlaywrightRelayOptions {
  /** The session's sandbox folder: both sockets go there. */
  dir: string;
  /** Makes sure the node runner is running (it dials back as soon as it starts). */
  ensureHost: () => Promise<unknown>;
}

/** How long a python connection waits for the node runner to dial back. */
const PAIR_TIMEOUT_MS = 20_000;
/** Playwright connections one session may hold at once (a python runner needs one). */
const MAX_PAIRS = 4;
/** Spare dial-backs kept; the node runner keeps one ready at a time. */
const MAX_IDLE = 2;

/**
 * Python's way to Playwright. The python runner speaks Playwright's protocol but starts no
 * driver: each connection it opens on `playwright.sock` is paired with one the session's node
 * runner dialled back on `playwright-host.sock`, and the bytes are relayed both ways. The two
 * runners live in separate sandboxes; neither can reach the other except through here.
 */
export class PlaywrightRelay {
  private readonly idle: net.Socket[] = [];
  private readonly waiting: ((host: net.Socket) => void)[] = [];
  private readonly live = new Set<net.Socket>();
  private pairs = 0;
  private closed = false;

  private constructor(
    private readonly opts: PlaywrightRelayOptions,
    private readonly clients: net.Server,
    private readonly hosts: net.Server,
    /** Where the python runner connects. */
    readonly clientSocketPath: string,
    /** Where the node runner dials back. */
    readonly hostSocketPath: string,
  ) {
    clients.on("connection", (socket) => void this.onClient(socket));
    hosts.on("connection", (socket) => this.onHost(socket));
  }

  static async listen(opts: PlaywrightRelayOptions): Promise<PlaywrightRelay> {
    const clientPath = path.join(opts.dir, "playwright.sock");
    const hostPath = path.join(opts.dir, "playwright-host.sock");
    const clients = await listenOn(clientPath);
    const hosts = await listenOn(hostPath).catch((err: unknown) => {
      clients.close();
      throw err;
    });
    return new PlaywrightRelay(opts, clients, hosts, clientPath, hostPath);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clients.close();
    this.hosts.close();
    for (const s of [...this.idle, ...this.live]) s.destroy();
    this.idle.length = 0;
    this.live.clear();
  }

  private onHost(socket: net.Socket): void {
    socket.on("error", () => {});
    if (this.closed) return void socket.destroy();
    const waiter = this.waiting.shift();
    if (waiter) return waiter(socket);
    if (this.idle.length >= MAX_IDLE) return void socket.destroy();
    this.idle.push(socket);
    socket.once("close", () => {
      const i = this.idle.indexOf(socket);
      if (i >= 0) this.idle.splice(i, 1);
    });
  }

  private async onClient(client: net.Socket): Promise<void> {
    client.on("error", () => {});
    if (this.closed || this.pairs >= MAX_PAIRS) return void client.destroy();
    this.pairs++;
    client.once("close", () => this.pairs--);
    client.pause();
    const host = await this.takeHost();
    if (!host || client.destroyed) {
      host?.destroy();
      return void client.destroy();
    }
    for (const s of [client, host]) {
      this.live.add(s);
      s.once("close", () => {
        this.live.delete(s);
        client.destroy();
        host.destroy();
      });
    }
    client.pipe(host);
    host.pipe(client);
    client.resume();
  }

  /** A dial-back that is still open, waiting for one (and starting the node runner) if needed. */
  private async takeHost(): Promise<net.Socket | undefined> {
    while (this.idle.length > 0) {
      const host = this.idle.shift()!;
      if (!host.destroyed) return host;
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(take);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(undefined);
      }, PAIR_TIMEOUT_MS);
      const take = (host: net.Socket) => {
        clearTimeout(timer);
        resolve(host);
      };
      this.waiting.push(take);
      this.opts.ensureHost().catch(() => {});
    });
  }
}

function listenOn(socketPath: string): Promise<net.Server> {
  fs.rmSync(socketPath, { force: true });
  const server = net.createServer();
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.off("error", reject);
      // Owned by the one sandbox user that uses it (chowned when its worker starts).
      fs.chmodSync(socketPath, 0o600);
      resolve(server);
    });
  });
}
