import { spawn, type ChildProcess } from "node:child_process";
import type { Duplex, Readable } from "node:stream";
import { ProcessOutput } from "./output.js";
import {
  descendants,
  isRunning,
  pidsMentioning,
  processTable,
  type ProcessStat,
} from "./process-table.js";
import { killGroup, killPid } from "./signal.js";
import type { Logger } from "../log/logger.js";

/** What to run and how to watch it. */
export interface ProcessSpec {
  /** Names the process in log lines and messages: "chromium", "sandbox runner". */
  name: string;
  file: string;
  args: string[];
  cwd?: string;
  /** The whole environment: nothing of the server's own is passed on. */
  env: Record<string, string>;
  /** Descriptors from fd 3 on: pipes (CDP, a request channel) or Node's IPC channel. */
  extraFds?: ("pipe" | "ipc")[];
  /**
   * Strings on the command line of processes that belong to this one although they left its
   * process group and tree (Chromium's crash handler forks twice and calls setsid).
   */
  markers?: string[];
  /** Takes the process's stdout and stderr line by line (info level), up to `logBudgetChars`. */
  log?: Pick<Logger, "info">;
  /** Default 64 KB. */
  logBudgetChars?: number;
  /** How much of the end of its output to keep for error messages. Default 8 KB. */
  tailChars?: number;
}

/** How a process ended. Both null when it never started. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** How long kill() waits for everything it signalled to be gone. */
const KILL_WAIT_MS = 3_000;
const KILL_POLL_MS = 20;

/**
 * One supervised child process, started by launchProcess: its own process group, its output
 * logged with a bound, killed with everything it started by kill() or when this server exits.
 */
export class LaunchedProcess {
  readonly child: ChildProcess;
  readonly output: ProcessOutput;
  /**
   * Resolves once the process has exited; after kill(), once everything it started is gone too.
   */
  readonly exited: Promise<ExitStatus>;
  /** Resolves as soon as the process itself has exited (what it started may still be going). */
  readonly ended: Promise<ExitStatus>;
  /** Set once the process has exited. */
  exitStatus: ExitStatus | undefined;
  private killing: Promise<void> | undefined;

  constructor(private readonly spec: ProcessSpec) {
    const extra = spec.extraFds ?? [];
    this.child = spawn(spec.file, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      // A process group of its own: kill() reaches the process and whatever it forks as one.
      detached: true,
      stdio: ["ignore", "pipe", "pipe", ...extra],
    });
    this.output = new ProcessOutput({
      prefix: `${spec.name}[${this.child.pid ?? "-"}]`,
      log: spec.log,
      logBudgetChars: spec.logBudgetChars ?? 64 * 1024,
      tailChars: spec.tailChars ?? 8 * 1024,
    });
    this.output.drain(this.child.stdout, "out");
    this.output.drain(this.child.stderr, "err");
    for (const s of this.child.stdio.slice(3)) (s as Readable | null)?.on("error", () => {});

    this.ended = new Promise((resolve) => {
      // "exit", not "close": a grandchild may hold the pipes open for ever.
      this.child.once("exit", (code, signal) => resolve((this.exitStatus = { code, signal })));
      this.child.on("error", (err) => {
        this.output.note(`could not start ${spec.file}: ${err.message}`);
        // Never started (no pid): "exit" will not come, so end here.
        if (this.child.pid === undefined) resolve((this.exitStatus = { code: null, signal: null }));
      });
    });
    this.exited = this.ended.then(async (status) => {
      await this.killing;
      untrack(this);
      return status;
    });
    if (this.child.pid !== undefined) track(this);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** False once the process has exited (its helpers may still be going; see kill()). */
  get alive(): boolean {
    return this.exitStatus === undefined && this.child.pid !== undefined;
  }

  /** The pipe at descriptor `fd` (3 and up), as given in `extraFds`. */
  pipe(fd: number): Duplex {
    return this.child.stdio[fd] as Duplex;
  }

  /**
   * SIGKILLs the process, its group, everything below it in the process tree and whatever
   * carries one of its markers; resolves once it has exited and all of those are gone (zombies
   * count as gone: they run nothing and hold no memory), or after a bounded wait. A process
   * that runs others in a namespace of their own (bubblewrap) is covered because the
   * namespace's init is below it, and does not finish exiting until the namespace is empty.
   * Safe to call twice.
   */
  kill(): Promise<void> {
    this.killing ??= (async () => {
      const signalled = this.signalAll();
      await this.ended;
      const end = Date.now() + KILL_WAIT_MS;
      const left = () => signalled.filter((p) => isRunning(p.pid, p.startTime));
      while (left().length > 0 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, KILL_POLL_MS));
      }
    })();
    return this.killing;
  }

  /**
   * The synchronous part of kill(): usable where nothing can be awaited (the server's exit).
   * Returns what it signalled, with start times to tell them from later holders of their pids.
   */
  signalAll(table = processTable()): { pid: number; startTime: number }[] {
    const leader = this.child.pid;
    if (leader === undefined) return [];
    const pids = new Set<number>();
    for (const pid of pidsMentioning(this.spec.markers ?? [])) {
      pids.add(pid);
      for (const below of descendants(pid, table)) pids.add(below);
    }
    if (this.alive) {
      // Not reaped yet, so the pid, and the group named after it, are still ours.
      pids.add(leader);
      for (const pid of descendants(leader, table)) pids.add(pid);
      // The group first: a member that forks meanwhile cannot escape a signal to its group.
      killGroup(leader);
    }
    // Once the leader is reaped its group is still ours while no other process holds its pid
    // (the kernel does not hand out a pid that still names a group).
    if (this.alive || !table.has(leader)) {
      for (const [pid, stat] of table) if (stat.pgrp === leader) pids.add(pid);
    }
    const signalled: { pid: number; startTime: number }[] = [];
    for (const pid of pids) {
      const stat: ProcessStat | undefined = table.get(pid);
      if (!stat || stat.state === "Z") continue;
      killPid(pid);
      signalled.push({ pid, startTime: stat.startTime });
    }
    return signalled;
  }
}

/** Starts one supervised process. Spawn failures surface through `exited` and `output`. */
export function launchProcess(spec: ProcessSpec): LaunchedProcess {
  return new LaunchedProcess(spec);
}

/**
 * Every launched process still running. This is the one piece of module state here, on
 * purpose: it mirrors the operating system's own list of this process's children, and the
 * exit hook is process-wide too. On exit (a normal one, or process.exit() after a signal) each
 * is SIGKILLed synchronously with everything it started, whatever the sandbox mode, so nothing
 * outlives the server even where bubblewrap's --die-with-parent does not apply. The hook is
 * installed only while something runs.
 */
const running = new Set<LaunchedProcess>();

function killAllNow(): void {
  const table = processTable();
  for (const proc of running) proc.signalAll(table);
}

function track(proc: LaunchedProcess): void {
  if (running.size === 0) process.on("exit", killAllNow);
  running.add(proc);
}

function untrack(proc: LaunchedProcess): void {
  if (running.delete(proc) && running.size === 0) process.off("exit", killAllNow);
}
