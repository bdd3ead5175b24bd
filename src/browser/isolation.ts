import fs from "node:fs";

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
    "--ro-bind",
    "/usr",
    "/usr",
    ...topLevelLinks(),
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

/** /bin, /lib... are links into /usr on merged-/usr systems and real folders elsewhere. */
function topLevelLinks(): string[] {
  const out: string[] = [];
  for (const name of ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(name);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) out.push("--symlink", fs.readlinkSync(name), name);
    else if (st.isDirectory()) out.push("--ro-bind", name, name);
  }
  return out;
}
