import { systemMounts } from "../sandbox/command.js";

/**
 * A bubblewrap prefix that starts Chromium with a filesystem of its own: the system's /usr and
 * /etc read-only, an empty /tmp, its profile, and a /proc that shows only its own processes.
 * Code driving a session's browser (`page.goto("file:///...")`) then cannot read the server's
 * environment, DATA_DIR, the project or other sessions' profiles. The network is shared: the
 * browser must reach the web, and the server must reach its debugging port.
 */
export function isolatedChromiumPrefix(bwrapPath: string, profileDir: string): string[] {
  return [
    bwrapPath,
    "--die-with-parent",
    "--unshare-user",
    "--uid",
    "65534",
    "--gid",
    "65534",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    ...systemMounts(),
    "--ro-bind",
    "/etc",
    "/etc",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--tmpfs",
    "/tmp",
    "--bind",
    profileDir,
    profileDir,
    "--chdir",
    profileDir,
    "--",
  ];
}
