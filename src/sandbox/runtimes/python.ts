import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { LanguageRuntime, PreparedRun, RunnerContext } from "./runtime.js";

/** The project's own virtual environment, made by `npm run setup` (scripts/setup.mjs). */
export const PYTHON_VENV = fileURLToPath(new URL("../../../.venv/", import.meta.url));

/** Staging leaves out what the runner never uses: Playwright's own Node driver, pip. */
const NOT_STAGED = /^(playwright\/driver|pip|setuptools|pkg_resources|_distutils_hack)(\/|$)/;

interface PythonInstall {
  interpreter: string;
  sitePackages: string;
}

/**
 * Python: a persistent interpreter (runtimes/python/runner.py) with Playwright for Python's
 * async API. It runs no Playwright driver: it talks to the session's node runner, which serves
 * its own Playwright and browser connection (runtimes/node/python-host.mjs).
 */
export function pythonRuntime(venv = PYTHON_VENV): LanguageRuntime {
  const install = (): PythonInstall => {
    const found = findInstall(venv);
    if (typeof found === "string") throw new Error(found);
    return found;
  };
  return {
    language: "python",
    files() {
      return {
        runner: fileURLToPath(new URL("./python/", import.meta.url)),
        "site-packages": install().sitePackages,
      };
    },
    mounts: { runner: "/opt/fc/runner", "site-packages": "/opt/fc/python" },
    sockets: ["playwright"],
    skipWhenStaging: (relative) => NOT_STAGED.test(relative),
    binaries: () => [install().interpreter],
    argv(ctx: RunnerContext): string[] {
      return [
        install().interpreter,
        // No environment variables, no user site folder, no .pyc writes (all read-only anyway).
        "-E",
        "-s",
        "-B",
        path.join(ctx.files.runner!, "runner.py"),
        ctx.files["site-packages"]!,
        ctx.sockets.playwright!,
        String(ctx.outputLimit),
        ...(ctx.reap ? ["reap"] : []),
      ];
    },
    // Python compiles in the runner: a syntax error comes back as the run's error there.
    prepare: (code: string): PreparedRun => ({ ok: true, request: { code } }),
    unavailable() {
      const found = findInstall(venv);
      return typeof found === "string" ? found : undefined;
    },
  };
}

/** The venv's interpreter and site-packages, or why python cannot run here. */
function findInstall(venv: string): PythonInstall | string {
  const setup = "then run `npm run setup`";
  const python = path.join(venv, "bin", "python3");
  if (!fs.existsSync(python)) {
    return (
      "Python is not set up on this server: install Python 3 with venv and pip " +
      `(Debian/Ubuntu: apt-get install python3 python3-venv python3-pip), ${setup}.`
    );
  }
  const interpreter = fs.realpathSync(python);
  if (!interpreter.startsWith("/usr/")) {
    return (
      `The python runtime needs the system's Python 3 under /usr (the sandbox has only /usr), ` +
      `but ${venv} uses ${interpreter}: install python3 and python3-venv, remove ${venv}, ${setup}.`
    );
  }
  const lib = path.join(venv, "lib");
  const version = fs.existsSync(lib)
    ? fs.readdirSync(lib).find((d) => /^python3\.\d+$/.test(d))
    : undefined;
  const sitePackages = version && path.join(lib, version, "site-packages");
  const installed = sitePackages && installedPlaywright(sitePackages);
  const wanted = nodePlaywrightVersion();
  if (!sitePackages || !installed) {
    return `Playwright for Python is not installed in ${venv}: ${setup}.`;
  }
  if (installed !== wanted) {
    return (
      `Playwright for Python ${installed} in ${venv} does not match playwright-core ${wanted} ` +
      `(both ends must speak the same protocol): ${setup}.`
    );
  }
  return { interpreter, sitePackages };
}

function installedPlaywright(sitePackages: string): string | undefined {
  if (!fs.existsSync(sitePackages)) return undefined;
  const info = fs.readdirSync(sitePackages).find((d) => /^playwright-.+\.dist-info$/.test(d));
  return info?.slice("playwright-".length, -".dist-info".length);
}

/** The playwright-core this server runs, which the python runner's Playwright must match. */
export function nodePlaywrightVersion(): string {
  const require = createRequire(import.meta.url);
  return (require("playwright-core/package.json") as { version: string }).version;
}
