import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { CHROMIUM_FLAGS, DESKTOP_VIEWPORT } from "./flags.js";
import { isolatedChromiumPrefix } from "./isolation.js";
import { allPids, processStat } from "./process-table.js";

/** The folder under DATA_DIR holding every profile we create; the orphan reaper keys on it. */
export function profilesRoot(dataDir: string): string {
  return path.join(dataDir, "browsers");
}

export interface ChromiumProcess {
  readonly id: string;
  readonly pid: number;
  /** ws://127.0.0.1:PORT/devtools/browser/ID: the browser-level CDP endpoint. */
  readonly wsEndpoint: string;
  readonly profileDir: string;
  /** Resolves once the process has exited, for whatever reason. */
  readonly exited: Promise<void>;
  /** Kills the whole process group and removes the profile. Safe to call twice. */
  kill(): Promise<void>;
}

export interface LaunchOptions {
  executablePath: string;
  dataDir: string;
  extraArgs?: string[];
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Run inside bubblewrap (see isolation.ts), for browsers that user code drives. */
  bwrapPath?: string;
}

const DEVTOOLS_LINE = /DevTools listening on (ws:\/\/\S+)/;

/**
 * Debugging ports of every Chromium this process started and that still runs. Session browsers
 * are kept away from all of them (see network/egress-proxy.ts): a debugging port is full
 * control of a browser, and they all listen on the same loopback.
 */
const liveDebuggingPorts = new Set<number>();

/** True when port is the debugging port of a Chromium we started. */
export function isOurDebuggingPort(port: number): boolean {
  return liveDebuggingPorts.has(port);
}

/**
 * Starts one Chromium with its own profile and a debugging port on loopback, in its own process
 * group so that every helper process it forks dies with it.
 */
export async function launchChromium(opts: LaunchOptions): Promise<ChromiumProcess> {
  const id = randomUUID();
  const profileDir = path.join(profilesRoot(opts.dataDir), id);
  fs.mkdirSync(profileDir, { recursive: true });
  const args = [
    ...CHROMIUM_FLAGS,
    `--user-data-dir=${profileDir}`,
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
    `--window-size=${DESKTOP_VIEWPORT.width},${DESKTOP_VIEWPORT.height}`,
    ...(opts.extraArgs ?? []),
    "about:blank",
  ];
  const prefix = opts.bwrapPath ? isolatedChromiumPrefix(opts.bwrapPath, profileDir) : [];
  const [file, ...rest] = [...prefix, opts.executablePath, ...args];
  const child = spawn(file!, rest, {
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: profileDir, TZ: "UTC" },
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const cleanup = () => removeProfile(profileDir);
  void exited.then(cleanup);

  const kill = async () => {
    killGroup(child);
    await exited;
    // Helpers (zygote, renderers) can outlive the main process by a moment: wait them out.
    await groupGone(child.pid);
    cleanup();
  };

  try {
    const wsEndpoint = await readEndpoint(child, opts.timeoutMs ?? 15_000, opts.signal);
    const port = Number(new URL(wsEndpoint).port);
    liveDebuggingPorts.add(port);
    void exited.then(() => liveDebuggingPorts.delete(port));
    return { id, pid: child.pid!, wsEndpoint, profileDir, exited, kill };
  } catch (err) {
    await kill();
    throw err;
  }
}

/** SIGKILLs the whole process group, even when its leader already exited. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

/**
 * Resolves once no live process of the group is left (or after a bounded wait). Zombies do not
 * count: processes from a sandbox's PID namespace are reaped by the system's init, which may
 * take its time, but a zombie holds no memory and runs nothing.
 */
async function groupGone(pgid: number | undefined, maxMs = 3_000): Promise<void> {
  if (pgid === undefined) return;
  const end = Date.now() + maxMs;
  while (Date.now() < end && liveGroupMembers(pgid) > 0) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {}
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** How many processes of group pgid are still running (not zombies). */
function liveGroupMembers(pgid: number): number {
  return allPids().filter((pid) => {
    const stat = processStat(pid);
    return stat !== undefined && stat.pgrp === pgid && stat.state !== "Z";
  }).length;
}

function removeProfile(dir: string): void {
  fs.rm(dir, { recursive: true, force: true, maxRetries: 3 }, () => {});
}

function readEndpoint(
  child: ChildProcess,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(
      () => fail(new Error(`Chromium did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = () => fail(new Error("Chromium launch aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      child.stderr?.removeListener("data", onData);
      child.removeListener("exit", onExit);
      // Keep draining stderr so Chromium never blocks on a full pipe.
      child.stderr?.resume();
    };
    const fail = (err: Error) => {
      done();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-8192);
      const m = DEVTOOLS_LINE.exec(seen);
      if (m?.[1]) {
        done();
        resolve(m[1]);
      }
    };
    const onExit = (code: number | null) =>
      fail(new Error(`Chromium exited during start (code ${code}): ${seen.trim().slice(-500)}`));
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
    child.once("error", (e) => fail(e));
  });
}
