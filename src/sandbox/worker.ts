import { bwrapCommand, plainCommand, type RunnerCommand } from "./command.js";
import { checkReachable } from "../isolation/reachable.js";
import { RunnerProcess, type RunnerReply } from "./runner-process.js";
import type { LanguageRuntime, SessionSocket } from "./runtimes/runtime.js";
import type { ReadyRuntime } from "./runtimes/staging.js";
import type { ExecResult, Language, SandboxWorker } from "./types.js";
import { acquireWorkerUid, type UidLease } from "../isolation/uid-pool.js";
import fs from "node:fs";
import type net from "node:net";
import { withDeadline } from "../deadline/deadline.js";
import {
  MAX_RUN_SECONDS,
  RUN_EXIT_WAIT_MS,
  TIMED_OUT_EXIT_CODE,
  withGrace,
} from "../deadline/run.js";
import { silentLogger, type Logger } from "../log/logger.js";

export interface WorkerOptions {
  /** The language's runtime, its files ready on the host (see runtimes/staging.ts). */
  runtime: ReadyRuntime;
  /** The session's sandbox folder; holds its sockets. Its path marks the process for the reaper. */
  scratchDir: string;
  /** The session's sockets on the host, normally inside scratchDir; the runtime says which it uses. */
  sockets: Partial<Record<SessionSocket, string>>;
  mode: "bwrap" | "none";
  /** Run as this uid. Default when root in bwrap mode: a uid leased from the pool per worker. */
  uid?: number;
  /** Memory bound: RLIMIT_DATA in MB; the V8 heap gets half. Default 512. */
  memoryLimitMb?: number;
  /** RLIMIT_NPROC inside the sandbox (threads count). Default 64. */
  maxProcesses?: number;
  /** Bound for stdout, stderr and result of one run, in characters. Default 1 MiB. */
  outputLimit?: number;
  /** Serves the CDP port each runner's sandbox hands out (a new one per process). */
  serveCdpPort?: (listener: net.Server) => void;
  /** Routine lines: worker starts and the runners' own output. */
  log?: Pick<Logger, "info">;
}

export const DEFAULT_MEMORY_LIMIT_MB = 512;
export const DEFAULT_MAX_PROCESSES = 64;
export const DEFAULT_OUTPUT_LIMIT = 1024 * 1024;
export const MIN_TIMEOUT_MS = 1;
const MAX_TIMEOUT_MS = MAX_RUN_SECONDS * 1000;
const ATTACH_TIMEOUT_MS = 20_000;
const KILLED = 137;
/** Consecutive failed starts after which the worker gives up and reports itself dead. */
const MAX_START_FAILURES = 3;

/**
 * Starts a persistent worker for one language in one session: a runner process in the sandbox
 * that keeps its globals between runs, with the session's browser in reach. If the process dies
 * or stops answering it is replaced on the next call (its variables are lost); the worker
 * object stays usable until kill(). Calls are not queued here: the session runs one at a time.
 */
export async function spawnWorker(opts: WorkerOptions): Promise<SandboxWorker> {
  const log = opts.log ?? silentLogger;
  fs.mkdirSync(opts.scratchDir, { recursive: true });
  let lease: UidLease | undefined;
  let uid = opts.uid;
  if (opts.mode === "bwrap" && uid === undefined) {
    lease = acquireWorkerUid();
    uid = lease?.uid;
  }
  try {
    let command: RunnerCommand;
    const limits = {
      memoryLimitMb: opts.memoryLimitMb ?? DEFAULT_MEMORY_LIMIT_MB,
      maxProcesses: opts.maxProcesses ?? DEFAULT_MAX_PROCESSES,
      outputLimit: opts.outputLimit ?? DEFAULT_OUTPUT_LIMIT,
    };
    if (opts.mode === "bwrap") {
      if (uid !== undefined) {
        // bwrap runs as `uid` and must reach every path it binds; its sockets become its own
        // (each socket belongs to one language, so no other worker loses it).
        fs.chmodSync(opts.scratchDir, 0o711);
        for (const name of opts.runtime.runtime.sockets) {
          const socket = opts.sockets[name];
          if (socket) fs.chownSync(socket, uid, uid);
        }
        command = bwrapCommand({ ...opts, ...limits, uid });
        checkReachable(command.args, uid);
      } else {
        command = bwrapCommand({ ...opts, ...limits });
      }
    } else {
      log.info(
        {},
        "SANDBOX=none: user code runs WITHOUT isolation, with this server's network and files",
      );
      command = plainCommand({ ...opts, ...limits });
    }
    const worker = new Worker(opts.runtime.runtime, command, log, lease, opts.serveCdpPort);
    await worker.start();
    return worker;
  } catch (err) {
    lease?.release();
    throw err;
  }
}

class Worker implements SandboxWorker {
  private proc: RunnerProcess | undefined;
  private starting: Promise<RunnerProcess> | undefined;
  private closed = false;
  private startFailures = 0;
  /** The process that last confirmed a connection to the browser; later runs skip asking. */
  private connected: RunnerProcess | undefined;
  /**
   * The process that ran the caller's code last and holds what it left (variables, agent-browser's
   * daemon), until we replace it ourselves: a call that finds it dead has lost all of that.
   */
  private holdsState: RunnerProcess | undefined;
  private resolveExited!: () => void;
  readonly exited = new Promise<void>((r) => (this.resolveExited = r));

  constructor(
    private readonly runtime: LanguageRuntime,
    private readonly command: RunnerCommand,
    private readonly log: Pick<Logger, "info">,
    private readonly lease: UidLease | undefined,
    private readonly serveCdpPort: ((listener: net.Server) => void) | undefined,
  ) {}

  get language(): Language {
    return this.runtime.language;
  }

  get alive(): boolean {
    return !this.closed;
  }

  /** The running process, starting one when there is none (first use, or after a crash). */
  start(): Promise<RunnerProcess> {
    if (this.proc?.alive) return Promise.resolve(this.proc);
    this.starting ??= (async () => {
      const t0 = Date.now();
      try {
        const proc = await RunnerProcess.start(this.command, this.log);
        if (this.closed) {
          proc.kill();
          throw new Error("sandbox worker was killed");
        }
        this.proc = proc;
        void proc.cdpListener?.then(
          (listener) => {
            // The listener holds the sandbox's network namespace: it goes with its runner.
            void proc.exited.then(() => listener.close());
            if (this.serveCdpPort) this.serveCdpPort(listener);
            else listener.close();
          },
          () => {},
        );
        this.startFailures = 0;
        this.log.info({}, `sandbox worker ${proc.pid} started in ${Date.now() - t0} ms`);
        return proc;
      } catch (err) {
        if (++this.startFailures >= MAX_START_FAILURES) void this.kill();
        throw err;
      } finally {
        this.starting = undefined;
      }
    })();
    return this.starting;
  }

  connect(): Promise<void> {
    return this.request("connect");
  }

  attach(): Promise<void> {
    return this.request("attach");
  }

  private async request(op: "connect" | "attach"): Promise<void> {
    const reply = await this.reach(await this.start(), op);
    if (!reply?.ok)
      throw new Error(`sandbox worker could not reach the browser: ${reply?.error ?? "timed out"}`);
  }

  /**
   * Asks `proc` to connect to the browser (`attach`: and to bind the current page), within its
   * own deadline: connecting is the worker's cost, not the user's. The reply, or undefined when
   * none came in time; `proc` is remembered as connected once it confirms.
   */
  private async reach(
    proc: RunnerProcess,
    op: "connect" | "attach",
  ): Promise<RunnerReply | undefined> {
    const reply = await withDeadline(proc.request({ op }), ATTACH_TIMEOUT_MS);
    if (reply?.ok) this.connected = proc;
    return reply;
  }

  exec(code: string, timeoutMs: number): Promise<ExecResult> {
    const timeout = Math.min(MAX_TIMEOUT_MS, Math.max(MIN_TIMEOUT_MS, Math.round(timeoutMs)));
    return this.run(code, timeout);
  }

  private async run(code: string, timeoutMs: number): Promise<ExecResult> {
    const prepared = this.runtime.prepare(code);
    if (!prepared.ok) return failure(prepared.error, 1, `${prepared.error}\n`);
    if (this.closed) return failure("The sandbox worker was stopped", KILLED);
    // Died since the last call (killed from outside, a timer that ran it out of memory): the
    // caller hears it in this call's stderr, as it would hear of a death during a run.
    const lost = this.holdsState !== undefined && !this.holdsState.alive;
    if (lost) this.holdsState = undefined;
    const result = await this.runOnce(prepared.request, timeoutMs);
    return lost ? { ...result, stderr: restartNotice(this.language) + result.stderr } : result;
  }

  private async runOnce(request: Record<string, unknown>, timeoutMs: number): Promise<ExecResult> {
    let proc: RunnerProcess;
    try {
      proc = await this.start();
      // Once a process has connected, a run goes straight on (a runner reconnects by itself,
      // before it starts the run's clock, if the connection was lost since).
      if (this.connected !== proc) {
        const connected = await this.reach(proc, "connect");
        if (!connected?.ok) {
          if (!connected) this.restart(proc);
          return failure(
            `Could not connect to the session's browser: ${connected?.error ?? "timed out"}`,
            1,
          );
        }
      }
    } catch (err) {
      return failure(`The sandbox worker could not start: ${(err as Error).message}`, 1);
    }

    const msg = { ...request, op: "exec", timeoutMs };
    this.holdsState = proc;
    // The runner holds the run to timeoutMs itself; the grace is for its answer to come back.
    const { value: reply } = await withGrace(() => proc.request(msg), timeoutMs);
    if (!reply) {
      // The runner's own deadline did not fire: its event loop is blocked (a loop after an await).
      // Answer once it is gone, so that the next call (any language) meets no half-dead runner.
      this.restart(proc);
      await withDeadline(proc.exited, RUN_EXIT_WAIT_MS);
      return failure(
        `Execution timed out after ${timeoutMs} ms; the worker was restarted and earlier variables are gone`,
        TIMED_OUT_EXIT_CODE,
        "",
        true,
      );
    }
    if (reply.ok && reply.result) return reply.result as ExecResult;
    // The process died under the run (out of memory, process.exit): replace it.
    this.restart(proc);
    await proc.exited;
    return failure(describeDeath(proc, reply), KILLED);
  }

  /** Kills a stuck or dead process and starts its replacement in the background. */
  private restart(proc: RunnerProcess): void {
    proc.kill();
    if (this.proc === proc) this.proc = undefined;
    // The answer that called this already says what was lost.
    if (this.holdsState === proc) this.holdsState = undefined;
    // Start and connect the replacement now, so the next call does not wait for it.
    void proc.exited.then(async () => {
      if (this.closed) return;
      const next = await this.start().catch(() => undefined);
      if (next) await this.reach(next, "connect");
    });
  }

  async kill(): Promise<void> {
    if (!this.closed) this.closed = true;
    const proc = this.proc ?? (await this.starting?.catch(() => undefined));
    proc?.kill();
    await proc?.exited;
    this.lease?.release();
    this.resolveExited();
  }
}

function describeDeath(proc: RunnerProcess, reply: RunnerReply): string {
  const tail = proc.outputTail;
  const oom = /heap out of memory|Allocation failed|out of memory|Cannot allocate/i.test(tail);
  const how = proc.exitInfo?.signal ?? `exit code ${proc.exitInfo?.code}`;
  const why = oom
    ? "ran out of memory"
    : `stopped (${how}${reply.error && reply.error !== "exited" ? `: ${reply.error}` : ""})`;
  return `The sandbox worker ${why} while running this code and was restarted; earlier variables are gone`;
}

/** The first line of a call's stderr when its worker died after the previous call. */
function restartNotice(language: Language): string {
  const lost =
    language === "bash"
      ? "what earlier calls left running (agent-browser's daemon and its refs) is gone"
      : "variables from earlier calls are gone";
  const what = language === "bash" ? "bash worker" : `${language} interpreter`;
  return `The ${what} stopped after the previous call and was restarted: ${lost}.\n`;
}

function failure(error: string, exitCode: number, stderr = "", killed = false): ExecResult {
  return { stdout: "", stderr, result: "", exitCode, killed, error };
}
