import { spawn, type ChildProcess } from "node:child_process";
import type { Readable, Duplex } from "node:stream";
import type { RunnerCommand } from "./command.js";

/** One answer from the runner: `ok` plus whatever the request asked for. */
export interface RunnerReply {
  id?: number;
  op?: string;
  ok?: boolean;
  error?: string;
  result?: unknown;
}

/** Longest protocol line we accept; the runner bounds its output well below this. */
const MAX_LINE_CHARS = 32 * 1024 * 1024;
/** How much of the process's own stdout/stderr we keep for diagnostics and log. */
const TAIL_CHARS = 8 * 1024;
const LOG_BUDGET_CHARS = 64 * 1024;
const READY_TIMEOUT_MS = 10_000;

/**
 * One running runner process and its request channel (fd 3). Knows nothing about code or
 * results: it sends requests, matches replies by id, and dies cleanly.
 */
export class RunnerProcess {
  private readonly child: ChildProcess;
  private readonly channel: Duplex;
  private readonly waiting = new Map<number, (reply: RunnerReply) => void>();
  private nextId = 1;
  private buffer = "";
  private tail = "";
  private logged = 0;
  readonly exited: Promise<void>;
  /** How the process ended, for error messages: exit code or signal. */
  exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(
    cmd: RunnerCommand,
    private readonly log: (msg: string) => void,
  ) {
    // detached: its own process group, so kill() reaches setpriv/prlimit/bwrap as one.
    this.child = spawn(cmd.file, cmd.args, {
      cwd: cmd.cwd,
      env: cmd.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe", "pipe"],
    });
    this.channel = this.child.stdio[3] as Duplex;
    this.exited = new Promise((resolve) => {
      // "exit", not "close": in SANDBOX=none a grandchild may hold the pipes open for ever.
      this.child.once("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        for (const reply of this.waiting.values()) reply({ ok: false, error: "exited" });
        this.waiting.clear();
        resolve();
      });
    });
    this.child.once("error", (err) => {
      this.note(`spawn failed: ${err.message}\n`);
      // Never started (no pid): "exit" will not come, so end here.
      if (this.child.pid === undefined) this.child.emit("exit", null, null);
    });
    this.drain(this.child.stdout);
    this.drain(this.child.stderr);
    this.channel.setEncoding("utf8");
    this.channel.on("data", (chunk: string) => this.onData(chunk));
    this.channel.on("error", () => {});
  }

  /** Starts the process and waits for the runner's ready line. */
  static async start(cmd: RunnerCommand, log: (msg: string) => void): Promise<RunnerProcess> {
    const proc = new RunnerProcess(cmd, log);
    const ready = new Promise<void>((resolve, reject) => {
      proc.waiting.set(0, (r) => (r.op === "ready" ? resolve() : reject(proc.failure())));
    });
    const timer = setTimeout(() => proc.kill(), READY_TIMEOUT_MS);
    try {
      await ready;
      return proc;
    } catch (err) {
      proc.kill();
      await proc.exited;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends one request; resolves with its reply, or `{ok:false, error:"exited"}` if the process dies. */
  request(msg: Record<string, unknown>): Promise<RunnerReply> {
    if (!this.alive) return Promise.resolve({ ok: false, error: "exited" });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.channel.write(`${JSON.stringify({ ...msg, id })}\n`);
    });
  }

  /** SIGKILLs the process group. Inside, bwrap's --die-with-parent and the pid namespace take the rest. */
  kill(): void {
    const pid = this.child.pid;
    if (pid === undefined || !this.alive) return;
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      this.child.kill("SIGKILL");
    }
  }

  /** An Error naming why the process ended, with the end of its own output. */
  failure(): Error {
    const how = this.exitInfo
      ? (this.exitInfo.signal ?? `exit code ${this.exitInfo.code}`)
      : "no answer";
    const tail = this.tail.trim().split("\n").slice(-5).join("\n");
    return new Error(`sandbox runner stopped (${how})${tail ? `: ${tail}` : ""}`);
  }

  /** The last few KB the process itself printed (not user output, which is captured per run). */
  get outputTail(): string {
    return this.tail;
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    if (this.buffer.length > MAX_LINE_CHARS && !this.buffer.includes("\n")) {
      this.note("protocol line too long, killing runner\n");
      this.kill();
      return;
    }
    let nl: number;
    while ((nl = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      let reply: RunnerReply;
      try {
        reply = JSON.parse(line) as RunnerReply;
      } catch {
        continue; // not ours: user code may write to fd 3 too; it only garbles its own run
      }
      const key = reply.op === "ready" ? 0 : reply.id;
      const resolve = key === undefined ? undefined : this.waiting.get(key);
      if (resolve && key !== undefined) {
        this.waiting.delete(key);
        resolve(reply);
      }
    }
  }

  /** Reads the process's own stdout/stderr: kept as a bounded tail, logged up to a budget. */
  private drain(stream: Readable | null): void {
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => this.note(chunk));
  }

  private note(text: string): void {
    this.tail = (this.tail + text).slice(-TAIL_CHARS);
    if (this.logged < LOG_BUDGET_CHARS) {
      const part = text.slice(0, LOG_BUDGET_CHARS - this.logged);
      this.logged += part.length;
      this.log(`sandbox runner: ${part.trimEnd()}`);
    }
  }
}
