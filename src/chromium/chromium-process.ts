import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { Deadline } from "../deadline/deadline.js";
import { acquireWorkerUid, type UidLease } from "../isolation/uid-pool.js";
import { launchProcess } from "../processes/launcher.js";
import { HANDOFF_FD, receiveListener } from "../isolation/handoff.js";
import type { BacklogLimits } from "../cdp/backlog.js";
import { CdpMux } from "../cdp/mux.js";
import { CHROMIUM_FLAGS, DESKTOP_VIEWPORT } from "./flags.js";
import {
  JAILED_DOWNLOADS_DIR,
  JAILED_PROFILE_DIR,
  jailRoot,
  jailedChromiumCommand,
  jailedProxyFlags,
  type JailOptions,
} from "../isolation/browser-jail.js";
import { PageScripts } from "./page-scripts.js";

/**
 * Where Playwright keeps the artifacts (downloads) of this DATA_DIR's browsers, one folder each.
 * Under the temp folder, not DATA_DIR: a jailed browser writes downloads at the same path in its
 * own /tmp. Named after DATA_DIR, so a start can remove what a killed predecessor left.
 */
export function artifactsRoot(dataDir: string): string {
  const tag = createHash("sha256").update(path.resolve(dataDir)).digest("hex").slice(0, 16);
  return path.join(os.tmpdir(), `fc-artifacts-${tag}`);
}

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
  /** Where every download of this browser goes (see cdp/download-policy.ts). */
  readonly downloads: BrowserDownloads;
  /** Resolves once the browser has exited, for whatever reason; after kill(), once all of it is gone. */
  readonly exited: Promise<void>;
  /**
   * Kills the browser and everything it started, jailed or not, waits until they are gone and
   * removes what it had on disk. Safe to call twice.
   */
  kill(): Promise<void>;
}

/** The folder a browser's downloads go to, as it sees it and as the server reaches it. */
export interface BrowserDownloads {
  /** The folder as the browser names it (what CDP download settings say). */
  readonly dir: string;
  /** The same folder on the server's side; undefined once the browser is gone. */
  hostDir(): string | undefined;
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
  /** What tenants' CDP clients may leave unread; the defaults when not given. */
  cdpBacklog?: BacklogLimits;
}

/**
 * Starts one Chromium with CDP over a pipe, through the one process launcher, so that every
 * helper process it forks dies with it. Jailed when `jail` is given; then it also runs as a
 * leased unprivileged uid when the server is root.
 */
export async function launchChromium(opts: LaunchOptions): Promise<ChromiumProcess> {
  const id = randomUUID();
  const lease: UidLease | undefined = opts.jail ? acquireWorkerUid() : undefined;
  let profileDir: string | undefined;
  let command: { file: string; args: string[] };
  let downloadsDir: string;
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
    downloadsDir = JAILED_DOWNLOADS_DIR;
  } else {
    profileDir = path.join(opts.profilesRoot ?? ".", id);
    fs.mkdirSync(profileDir, { recursive: true });
    // In the profile's folder, so it goes with it.
    downloadsDir = path.join(profileDir, "downloads");
    fs.mkdirSync(downloadsDir);
    const proxy = opts.proxyServer
      ? [`--proxy-server=${opts.proxyServer}`, "--proxy-bypass-list=<-loopback>"]
      : [];
    command = {
      file: opts.executablePath,
      args: [...common, `--user-data-dir=${profileDir}`, ...proxy, "about:blank"],
    };
  }
  // fd 3 and 4: CDP; a jail's helper hands its egress socket over the IPC channel.
  const extraFds: ("pipe" | "ipc")[] = ["pipe", "pipe"];
  if (opts.jail) extraFds[HANDOFF_FD - 3] = "ipc";
  const proc = launchProcess({
    name: "chromium",
    file: command.file,
    args: command.args,
    env: { PATH: "/usr/bin:/bin", HOME: profileDir ?? JAILED_PROFILE_DIR, TZ: "UTC" },
    extraFds,
    // Unjailed, Chromium's crash handler leaves the process group; it names the profile.
    markers: profileDir ? [profileDir] : [],
    // Chromium logs a lot to stderr: a tail is kept for a failed start's message.
    tailChars: 2_000,
  });
  const cdp = new CdpMux(proc.pipe(3), proc.pipe(4), opts.cdpBacklog, downloadsDir);
  const jailed = opts.jail !== undefined;
  let root: string | undefined;
  const downloads: BrowserDownloads = {
    dir: downloadsDir,
    hostDir: () => {
      if (!jailed) return downloadsDir;
      if (!root || !fs.existsSync(root)) root = proc.pid ? jailRoot(proc.pid) : undefined;
      return root && path.join(root, downloadsDir);
    },
  };
  const exited = proc.exited.then(() => {});
  const cleanup = () => {
    cdp.close();
    lease?.release();
    if (profileDir) fs.rm(profileDir, { recursive: true, force: true, maxRetries: 3 }, () => {});
  };
  void exited.then(cleanup);

  const kill = async () => {
    await proc.kill();
    cleanup();
  };

  const output = () => proc.output.tail.trim().slice(-500);
  const deadline = new Deadline(opts.timeoutMs ?? 15_000, {
    signal: opts.signal,
    timeoutError: (d) => new Error(`Chromium did not start within ${d.timeoutMs} ms: ${output()}`),
    cancelError: () => new Error("Chromium launch aborted"),
  });
  const egressSocket = opts.jail
    ? receiveListener(proc.child, "the browser jail's egress socket")
    : Promise.resolve(undefined);
  try {
    const [egress] = await deadline.race(
      Promise.all([egressSocket, cdp.ready()]).catch((err: Error) => {
        throw new Error(`Chromium did not start (${err.message}): ${output()}`);
      }),
    );
    // Attached before any page exists, so that it reaches every page's renderer.
    const scripts = new PageScripts(cdp);
    return { id, pid: proc.pid!, cdp, scripts, egress, downloads, exited, kill };
  } catch (err) {
    // Handed out now or later, nobody will serve it.
    void egressSocket.then(
      (socket) => socket?.close(),
      () => {},
    );
    await kill();
    throw err;
  } finally {
    deadline.dispose();
  }
}
