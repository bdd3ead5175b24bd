import type net from "node:net";
import type { Duplex } from "node:stream";
import { HANDOFF_FD, receiveListener } from "../isolation/handoff.js";
import { withDeadline } from "../deadline/deadline.js";
import { launchProcess, type LaunchedProcess } from "../processes/launcher.js";
import type { RunnerCommand } from "./command.js";
import type { Logger } from "../log/logger.js";

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

/** fd 3: the request channel; fd 5: the IPC channel the sandbox's CDP port is handed over. */
function channels(): ("pipe" | "ipc")[] {
  const fds: ("pipe" | "ipc")[] = ["pipe", "pipe", "pipe"];
  fds[HANDOFF_FD - 3] = "ipc";
  return fds;
}

/**
 * One running runner process and its request channel (fd 3). Knows nothing about code or
 * results: it sends requests, matches replies by id, and dies cleanly. The process itself is
 * started, logged and killed by the one process launcher (src/processes).
 */
export class RunnerProcess {
  private readonly proc: LaunchedProcess;
  private readonly channel: Duplex;
  private readonly waiting = new Map<number, (reply: RunnerReply) => void>();
  private nextId = 1;
  private buffer = "";
  /** Resolves once the process has exited; after kill(), once everything it started is gone. */
  readonly exited: Promise<void>;
  /** The sandbox's CDP port, made in its network namespace and handed out (see command.ts). */
  readonly cdpListener: Promise<net.Server> | undefined;

  private constructor(cmd: RunnerCommand, log: Pick<Logger, "info">) {
    this.proc = launchProcess({
      name: "sandbox runner",
      file: cmd.file,
      args: cmd.args,
      cwd: cmd.cwd,
      env: cmd.env,
      extraFds: cmd.handsOutCdpPort ? channels() : ["pipe"],
      log,
      logBudgetChars: LOG_BUDGET_CHARS,
      tailChars: TAIL_CHARS,
    });
    this.channel = this.proc.pipe(3);
    if (cmd.handsOutCdpPort) {
      this.cdpListener = receiveListener(this.proc.child, "the sandbox's CDP port");
      this.cdpListener.catch(() => {});
    }
    void this.proc.ended.then(() => {
      for (const reply of this.waiting.values()) reply({ ok: false, error: "exited" });
      this.waiting.clear();
    });
    this.exited = this.proc.exited.then(() => {});
    this.channel.setEncoding("utf8");
    this.channel.on("data", (chunk: string) => this.onData(chunk));
  }

  /** Starts the process and waits for the runner's ready line. */
  static async start(cmd: RunnerCommand, log: Pick<Logger, "info">): Promise<RunnerProcess> {
    const proc = new RunnerProcess(cmd, log);
    const ready = new Promise<boolean>((resolve) => {
      proc.waiting.set(0, (r) => resolve(r.op === "ready"));
    });
    if (await withDeadline(ready, READY_TIMEOUT_MS)) return proc;
    void proc.cdpListener?.then(
      (l) => l.close(),
      () => {},
    );
    proc.kill();
    await proc.exited;
    throw proc.failure();
  }

  get alive(): boolean {
    return this.proc.alive;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** How the process ended, for error messages: exit code or signal. */
  get exitInfo(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.proc.exitStatus;
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

  /**
   * SIGKILLs the process with everything it started (the launcher's kill: group, tree, and for
   * bwrap the sandbox's pid namespace with it). `exited` resolves once all of it is gone.
   */
  kill(): void {
    void this.proc.kill();
  }

  /** An Error naming why the process ended, with the end of its own output. */
  failure(): Error {
    const how = this.exitInfo
      ? (this.exitInfo.signal ?? `exit code ${this.exitInfo.code}`)
      : "no answer";
    const tail = this.outputTail.trim().split("\n").slice(-5).join("\n");
    return new Error(`sandbox runner stopped (${how})${tail ? `: ${tail}` : ""}`);
  }

  /** The last few KB the process itself printed (not user output, which is captured per run). */
  get outputTail(): string {
    return this.proc.output.tail;
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    if (this.buffer.length > MAX_LINE_CHARS && !this.buffer.includes("\n")) {
      this.proc.output.note("protocol line too long, killing runner");
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
}
