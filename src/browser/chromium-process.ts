import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import type net from "node:net";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { acquireWorkerUid, type UidLease } from "../isolation/uid-pool.js";
import { CdpMux } from "./cdp-mux.js";
import { CHROMIUM_FLAGS, DESKTOP_VIEWPORT } from "./flags.js";
import {
  HANDOFF_FD,
  JAILED_PROFILE_DIR,
  jailedChromiumCommand,
  jailedProxyFlags,
  type JailOptions,
} from "./jail.js";
import { PageScripts } from "./page-scripts.js";
import { allPids, processStat } from "./process-table.js";

/** The folder under DATA_DIR holding the profiles of browsers run without a jail. */
export function profilesRoot(dataDir: string): string {
  return path.join(dataDir, "browsers");
}

export interface ChromiumProcess {
  readonly id: string;
  readonly pid: number;
  /** CDP over the browser's pipe; there is no debugging port. */
  readonly cdp: CdpMux;
  /** Stops page scripts on demand (a timed-out run's endless loop). */
  readonly scripts: PageScripts;
  /** Jailed browsers: the listening socket in the jail's network namespace, its only way out. */
  readonly egress: net.Server | undefined;
  /** Resolves once the process has exited, for whatever reason. */
  readonly exited: Promise<void>;
  /** Kills the whole process group and removes what it had on disk. Safe to call twice. */
  kill(): Promise<void>;
}

export interface LaunchOptions {
  executablePath: string;
  extraArgs?: string[];
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Run in a bubblewrap jail (see jail.ts). Without one, the next two apply. */
  jail?: Omit<JailOptions, "uid">;
  /** Unjailed: where the profile folder goes (removed on exit, and by the next start if killed). */
  profilesRoot?: string;
  /** Unjailed: the egress proxy URL, e.g. http://127.0.0.1:PORT. */
  proxyServer?: string;
}

/**
 * Starts one Chromium with CDP over a pipe, in its own process group so that every helper
 * process it forks dies with it. Jailed when `jail` is given; then it also runs as a leased
 * unprivileged uid when the server is root.
 */
export async function launchChromium(opts: LaunchOptions): Promise<ChromiumProcess> {
  const id = randomUUID();
  const lease: UidLease | undefined = opts.jail ? acquireWorkerUid() : undefined;
  let profileDir: string | undefined;
  let command: { file: string; args: string[] };
  const common = [
    ...CHROMIUM_FLAGS,
    "--remote-debugging-pipe",
    `--window-size=${DESKTOP_VIEWPORT.width},${DESKTOP_VIEWPORT.height}`,
    ...(opts.extraArgs ?? []),
  ];
  if (opts.jail) {
    const args = [
      ...common,
      `--user-data-dir=${JAILED_PROFILE_DIR}`,
      ...jailedProxyFlags(),
      "about:blank",
    ];
    command = jailedChromiumCommand(opts.executablePath, args, { ...opts.jail, uid: lease?.uid });
  } else {
    profileDir = path.join(opts.profilesRoot ?? ".", id);
    fs.mkdirSync(profileDir, { recursive: true });
    const proxy = opts.proxyServer
      ? [`--proxy-server=${opts.proxyServer}`, "--proxy-bypass-list=<-loopback>"]
      : [];
    command = {
      file: opts.executablePath,
      args: [...common, `--user-data-dir=${profileDir}`, ...proxy, "about:blank"],
    };
  }
  const stdio: ("ignore" | "pipe" | "ipc")[] = ["ignore", "ignore", "pipe", "pipe", "pipe"];
  if (opts.jail) stdio[HANDOFF_FD] = "ipc";
  const child = spawn(command.file, command.args, {
    detached: true,
    stdio,
    env: { PATH: "/usr/bin:/bin", HOME: profileDir ?? JAILED_PROFILE_DIR, TZ: "UTC" },
  });
  // Chromium logs a lot to stderr; keep only a tail for a failed start's message.
  let stderrTail = "";
  child.stderr?.on("data", (d: Buffer) => (stderrTail = (stderrTail + d).slice(-2000)));
  const cdp = new CdpMux(child.stdio[3] as Writable, child.stdio[4] as Readable);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const cleanup = () => {
    cdp.close();
    lease?.release();
    if (profileDir) fs.rm(profileDir, { recursive: true, force: true, maxRetries: 3 }, () => {});
  };
  void exited.then(cleanup);

  const kill = async () => {
    killGroup(child);
    await exited;
    // Helpers (zygote, renderers) can outlive the main process by a moment: wait them out.
    await groupGone(child.pid);
    cleanup();
  };

  try {
    const [egress] = await withTimeout(
      Promise.all([opts.jail ? handedOut(child) : undefined, cdp.ready()]),
      opts.timeoutMs ?? 15_000,
      opts.signal,
      () => `Chromium did not start: ${stderrTail.trim().slice(-500)}`,
    );
    // Attached before any page exists, so that it reaches every page's renderer.
    const scripts = new PageScripts(cdp);
    return { id, pid: child.pid!, cdp, scripts, egress, exited, kill };
  } catch (err) {
    await kill();
    throw err;
  }
}

/** The listening socket the jail's helper sends over the IPC channel. */
function handedOut(child: ChildProcess): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    child.once("message", (_msg, handle) => {
      child.disconnect?.();
      if (handle && "listen" in handle) resolve(handle as net.Server);
      else reject(new Error("the browser jail did not hand out its egress socket"));
    });
    child.once("exit", () => reject(new Error("Chromium exited during start")));
  });
}

function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  signal: AbortSignal | undefined,
  message: () => string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(message())), ms);
    const onAbort = () => fail(new Error("Chromium launch aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const fail = (err: Error) => {
      done();
      reject(err);
    };
    p.then(
      (v) => {
        done();
        resolve(v);
      },
      (err: Error) => fail(new Error(`${err.message}: ${message()}`)),
    );
  });
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
 * count: processes from a jail's PID namespace are reaped by the system's init, which may
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
