import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** Raised when no Chromium can be found; the message says what to install. */
export class ChromiumNotFoundError extends Error {}

const INSTALL_HINT =
  "No Chromium found. Install Debian's Chromium (sudo apt-get install -y chromium) " +
  "or set CHROMIUM_PATH to a Chromium or Chrome binary.";

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Chromium builds installed by Playwright, newest first. */
function playwrightChromiums(home: string): string[] {
  const roots = [path.join(home, ".cache", "ms-playwright")];
  const found: string[] = [];
  for (const root of roots) {
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(root).filter((d) => /^chromium-\d+$/.test(d));
    } catch {
      continue;
    }
    entries.sort((a, b) => Number(b.split("-")[1]) - Number(a.split("-")[1]));
    for (const d of entries) {
      for (const sub of ["chrome-linux64/chrome", "chrome-linux/chrome"]) {
        found.push(path.join(root, d, sub));
      }
    }
  }
  return found;
}

/** Every place we look, in order: CHROMIUM_PATH, Debian, Playwright's cache, Google Chrome. */
export function chromiumCandidates(configured: string | undefined, home = os.homedir()): string[] {
  return [
    ...(configured ? [configured] : []),
    "/usr/lib/chromium/chromium",
    ...playwrightChromiums(home),
    "/opt/google/chrome/chrome",
    "/usr/bin/google-chrome-stable",
    "/usr/bin/google-chrome",
  ];
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
