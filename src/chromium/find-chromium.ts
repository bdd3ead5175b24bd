import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** Raised when no Chromium can be found; the message says what to install. */
export class ChromiumNotFoundError extends Error {}

const INSTALL_HINT =
  "No Chromium found. Install Debian's headless Chromium " +
  "(sudo apt-get install -y chromium-headless-shell) or set CHROMIUM_PATH to a Chromium or " +
  "Chrome binary.";

/** Debian's build of Chromium's headless shell (package chromium-headless-shell). */
export const DEBIAN_HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell";

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Builds Playwright installed of one kind (`chromium` or `chromium_headless_shell`), newest first. */
function playwrightBuilds(home: string, kind: string, binaries: string[]): string[] {
  const root = path.join(home, ".cache", "ms-playwright");
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(root).filter((d) => new RegExp(`^${kind}-\\d+$`).test(d));
  } catch {
    return [];
  }
  entries.sort((a, b) => Number(b.split("-").at(-1)) - Number(a.split("-").at(-1)));
  return entries.flatMap((d) => binaries.map((b) => path.join(root, d, b)));
}

/**
 * Every place we look, in order: CHROMIUM_PATH; then headless shells (Debian's, Playwright's),
 * which do everything a server needs at about a third of full Chromium's memory and start
 * faster; then full Chromium builds (Debian, Playwright, Google Chrome).
 */
export function chromiumCandidates(configured: string | undefined, home = os.homedir()): string[] {
  return [
    ...(configured ? [configured] : []),
    DEBIAN_HEADLESS_SHELL,
    ...playwrightBuilds(home, "chromium_headless_shell", [
      "chrome-headless-shell-linux64/chrome-headless-shell",
      "chrome-linux/headless_shell",
    ]),
    "/usr/lib/chromium/chromium",
    ...playwrightBuilds(home, "chromium", ["chrome-linux64/chrome", "chrome-linux/chrome"]),
    "/opt/google/chrome/chrome",
    "/usr/bin/google-chrome-stable",
    "/usr/bin/google-chrome",
  ];
}

/** Whether a binary is a headless shell build (by its file name, as every vendor names it). */
export function isHeadlessShell(executable: string): boolean {
  return /headless[-_]shell/.test(path.basename(executable));
}

/** Returns the first usable Chromium binary, or throws with install instructions. */
export function findChromium(configured: string | undefined): string {
  if (configured && !isExecutable(configured)) {
    throw new ChromiumNotFoundError(
      `CHROMIUM_PATH is set to ${configured}, which is not an executable file.`,
    );
  }
  const hit = chromiumCandidates(configured).find(isExecutable);
  if (!hit) throw new ChromiumNotFoundError(INSTALL_HINT);
  return hit;
}
