import { handoffPrefix } from "./handoff.js";
import { dropToUid, readOnlyIfPresent, systemMounts } from "./host.js";
import { descendants, mountNamespace } from "../processes/process-table.js";

/** How a browser is locked up; see docs/security.md for what each part stops. */
export interface JailOptions {
  bwrapPath: string;
  /** Node, to run the one-shot helper that hands the egress listener out (see below). */
  nodePath: string;
  /** Host uid to run as (leased from the uid pool) when the server runs as root. */
  uid?: number;
  /** Size of the browser's only writable filesystem, which holds its profile and caches. */
  storageBytes: number;
  /** A string on the command line that marks the process as this server's, for the reaper. */
  marker: string;
}

/** Inside the jail: the profile, on the size-limited tmpfs. */
export const JAILED_PROFILE_DIR = "/tmp/profile";
/**
 * Inside the jail: where its downloads go, on the same size-limited tmpfs as the profile, so a
 * download can never fill the host's disk. The server reads them through jailRoot().
 */
export const JAILED_DOWNLOADS_DIR = "/tmp/downloads";
/** Inside the jail's own network namespace: the only address anything can connect to. */
const EGRESS_PORT = 8118;
/** The proxy flags that send every connection the browser makes to the handed-out listener. */
export function jailedProxyFlags(): string[] {
  // <-loopback> sends loopback through the proxy too, where the egress policy decides.
  return [`--proxy-server=http://127.0.0.1:${EGRESS_PORT}`, "--proxy-bypass-list=<-loopback>"];
}

/**
 * The command that runs Chromium in bubblewrap with:
 * - its own network namespace: only loopback, where nothing listens but the handed-out egress
 *   socket, so no flag, context option or extension can route around the egress policy;
 * - its own user (a leased unprivileged uid when the server is root), pid, ipc and uts namespaces;
 * - a read-only root with just the system's /usr and the few /etc files fonts and TLS need;
 * - one writable filesystem, /tmp, a tmpfs of `storageBytes` holding the profile, so a page's
 *   storage quota and disk use are bounded and nothing is left on disk when it exits.
 */
export function jailedChromiumCommand(
  chromium: string,
  chromiumArgs: string[],
  opts: JailOptions,
): { file: string; args: string[] } {
  const bwrap = [
    opts.bwrapPath,
    "--die-with-parent",
    "--new-session",
    "--unshare-user",
    "--disable-userns",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-net",
    "--unshare-cgroup-try",
    "--hostname",
    "browser",
    ...systemMounts(),
    ...(opts.nodePath.startsWith("/usr/") ? [] : ["--ro-bind", opts.nodePath, opts.nodePath]),
    ...readOnlyIfPresent(["/etc/fonts", "/etc/ld.so.cache", "/etc/ssl/certs"]),
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--size",
    String(opts.storageBytes),
    "--tmpfs",
    "/tmp",
    "--dir",
    JAILED_PROFILE_DIR,
    "--dir",
    JAILED_DOWNLOADS_DIR,
    "--remount-ro",
    "/dev",
    "--remount-ro",
    "/",
    "--chdir",
    "/tmp",
    "--setenv",
    "HOME",
    JAILED_PROFILE_DIR,
    "--setenv",
    "FC_OWNER",
    opts.marker,
    "--",
    // Before Chromium: the egress listener is made in the jail's namespace and handed out.
    ...handoffPrefix(opts.nodePath, EGRESS_PORT, "egress"),
    chromium,
    ...chromiumArgs,
  ];
  const argv = opts.uid === undefined ? bwrap : [...dropToUid(opts.uid), ...bwrap];
  return { file: argv[0]!, args: argv.slice(1) };
}

/**
 * The jail's filesystem as the server sees it (`/proc/<pid>/root` of a process inside it), for
 * reading what the browser wrote there; undefined once nothing of the jail runs. `pid` is the
 * process the jail was started as.
 */
export function jailRoot(pid: number): string | undefined {
  const ours = mountNamespace("self");
  for (const p of [pid, ...descendants(pid)]) {
    const ns = mountNamespace(p);
    if (ns !== undefined && ns !== ours) return `/proc/${p}/root`;
  }
  return undefined;
}
