import { randomUUID } from "node:crypto";
import fs from "node:fs";
import type net from "node:net";
import path from "node:path";
import { PlaywrightRelay } from "./playwright-relay.js";
import type { SessionSocket } from "./runtimes/runtime.js";
import type { CodeAvailability } from "./availability.js";
import type { Language, SandboxWorker } from "./types.js";
import { spawnWorker } from "./worker.js";
import type { Logger } from "../log/logger.js";

/** Serves CDP connections to one browser: on a unix socket, and on a handed-out TCP listener. */
export interface CdpEndpointSource {
  listen(socketPath: string, opts: { maxMessageBytes: number }): Promise<{ close(): unknown }>;
  serve(listener: net.Server, opts: { maxMessageBytes: number }): { close(): unknown };
}

export interface SessionSandboxOptions {
  /** Where sandbox folders go (sandboxRoot(dataDir)). */
  root: string;
  mode: "bwrap" | "none";
  /** What may run here; a worker starts only for a language it allows. */
  code: Pick<CodeAvailability, "runtime">;
  /** The session's browser. */
  browser: CdpEndpointSource;
  /** Largest CDP message code in the sandbox may send its browser. */
  cdpMaxMessageBytes: number;
  /** Routine lines: worker starts and the runners' own output. */
  log?: Pick<Logger, "info">;
}

/**
 * One session's sandbox: its folder, its ways out, all to the session's browser (a CDP socket at
 * /run/cdp.sock for node, Playwright's protocol for python through the node runner, and a
 * debugging port at 127.0.0.1:9222 that every process in the sandbox reaches, whatever its
 * language), and one worker per language, started on its first use.
 */
export class SessionSandbox {
  private readonly workers = new Map<Language, Promise<SandboxWorker>>();
  private readonly started = new Set<SandboxWorker>();
  private readonly ports = new Set<{ close(): unknown }>();
  private closed = false;

  private relay: PlaywrightRelay | undefined;

  private constructor(
    private readonly opts: SessionSandboxOptions,
    readonly dir: string,
    readonly cdpSocketPath: string,
    private readonly endpoint: { close(): unknown },
  ) {}

  /** Creates the folder and its endpoints; no worker runs yet. */
  static async create(opts: SessionSandboxOptions): Promise<SessionSandbox> {
    const dir = path.join(opts.root, randomUUID());
    fs.mkdirSync(dir, { recursive: true });
    const socket = path.join(dir, "cdp.sock");
    let endpoint: { close(): unknown } | undefined;
    try {
      endpoint = await opts.browser.listen(socket, {
        maxMessageBytes: opts.cdpMaxMessageBytes,
      });
      const sandbox = new SessionSandbox(opts, dir, socket, endpoint);
      sandbox.relay = await PlaywrightRelay.listen({
        dir,
        ensureHost: () => sandbox.worker("node"),
      });
      return sandbox;
    } catch (err) {
      await Promise.resolve(endpoint?.close()).catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The session's sockets on the host, by name. */
  private sockets(): Partial<Record<SessionSocket, string>> {
    return {
      cdp: this.cdpSocketPath,
      playwright: this.relay?.clientSocketPath,
      "playwright-host": this.relay?.hostSocketPath,
    };
  }

  /** Languages whose worker has been started. */
  languages(): Language[] {
    return [...this.workers.keys()];
  }

  /** The language's worker, started on first use; a dead one is replaced. */
  async worker(language: Language): Promise<SandboxWorker> {
    if (this.closed) throw new Error("the session's sandbox is closed");
    let pending = this.workers.get(language);
    const current = pending && (await pending.catch(() => undefined));
    if (!current?.alive) {
      const ready = this.opts.code.runtime(language);
      pending = spawnWorker({
        runtime: ready,
        scratchDir: this.dir,
        sockets: this.sockets(),
        mode: this.opts.mode,
        serveCdpPort: (listener) => this.servePort(listener),
        log: this.opts.log,
      });
      this.workers.set(language, pending);
      pending.catch(() => this.workers.delete(language));
    }
    const worker = await pending!;
    this.started.add(worker);
    if (current && current !== worker) this.started.delete(current);
    if (this.closed) {
      await worker.kill();
      throw new Error("the session's sandbox is closed");
    }
    return worker;
  }

  /** False once closed, or when a worker gave up (it failed to start three times in a row). */
  get alive(): boolean {
    return !this.closed && [...this.started].every((w) => w.alive);
  }

  /** Kills every worker, closes the endpoint and removes the folder. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const workers = await Promise.all(
      [...this.workers.values()].map((p) => p.catch(() => undefined)),
    );
    await Promise.all(workers.map((w) => w?.kill()));
    for (const port of this.ports) port.close();
    this.relay?.close();
    await Promise.resolve(this.endpoint.close()).catch(() => {});
    // The folder goes last, once the workers using it are gone.
    await fs.promises.rm(this.dir, { recursive: true, force: true }).catch(() => {});
  }

  /** Serves a worker's CDP port; the listener dies with the worker's network namespace. */
  private servePort(listener: net.Server): void {
    if (this.closed) return void listener.close();
    const port = this.opts.browser.serve(listener, {
      maxMessageBytes: this.opts.cdpMaxMessageBytes,
    });
    this.ports.add(port);
    listener.once("close", () => {
      port.close();
      this.ports.delete(port);
    });
  }
}
