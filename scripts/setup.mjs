// First step of `npm start` and `npm test`: installs whatever is missing, using only Node's
// standard library (it runs before node_modules exists), then checks the system tools.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const quiet = process.env.SETUP_QUIET === "1";
const log = (msg) => quiet || console.error(`[setup] ${msg}`);
const started = Date.now();
/** Seconds since `t`, for "done in" lines: installs on a fresh machine take minutes. */
const since = (t) => `${((Date.now() - t) / 1000).toFixed(1)} s`;

const [major, minor, patch] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && (minor < 18 || (minor === 18 && patch < 1)))) {
  console.error(
    `[setup] Node ${process.versions.node} is too old: Node 20.18.1 or newer is needed.`,
  );
  process.exit(1);
}

function run(cmd, args) {
  const res = spawnSync(cmd, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  return res.status === 0;
}

// 1. npm packages, when node_modules is missing or older than the lockfile.
const lock = path.join(root, "package-lock.json");
const installed = path.join(root, "node_modules", ".package-lock.json");
const stale =
  !fs.existsSync(installed) || fs.statSync(installed).mtimeMs < fs.statSync(lock).mtimeMs;
if (stale) {
  // `npm install` rather than `npm ci`: it installs the lockfile's versions too, and it tolerates
  // registries that do not carry every platform's optional packages (which `npm ci` rejects).
  log("installing npm packages (npm install; a minute or two on a fresh machine)...");
  const t = Date.now();
  if (!run("npm", ["install", "--no-audit", "--no-fund"])) {
    console.error("[setup] npm install failed; see the output above.");
    process.exit(1);
  }
  log(`npm packages installed in ${since(t)}`);
} else {
  log("npm packages: up to date");
}

// agent-browser (bash's browser tool) ships every platform's native build in its package, not
// always marked executable; the sandbox runs this machine's build directly.
const agentBrowserBin = path.join(root, "node_modules", "agent-browser", "bin");
if (fs.existsSync(agentBrowserBin)) {
  for (const f of fs.readdirSync(agentBrowserBin)) {
    if (!f.startsWith(`agent-browser-${process.platform}-`)) continue;
    const bin = path.join(agentBrowserBin, f);
    try {
      fs.chmodSync(bin, 0o755);
    } catch (err) {
      // Someone else's node_modules: fine if it is executable already.
      try {
        fs.accessSync(bin, fs.constants.X_OK);
      } catch {
        console.error(`[setup] cannot make ${bin} executable (${err.code}); bash calls will fail.`);
      }
    }
  }
}

// 2. System packages from Debian/Ubuntu: Chromium's headless shell (what browsers run: a third
//    of full Chromium's memory), bubblewrap for the code sandbox, ffmpeg for session recordings,
//    and HAProxy, the load balancer `npm run cluster` puts in front of its nodes.
const HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell";
const hasChromium = () => fs.existsSync(process.env.CHROMIUM_PATH || HEADLESS_SHELL);
const hasCommand = (name) => spawnSync("sh", ["-c", `command -v ${name}`]).status === 0;

// The python language runs the system's Python 3 (the sandbox holds only /usr) from a venv.
const SYSTEM_PYTHON = "/usr/bin/python3";
const hasPythonVenv = () =>
  fs.existsSync(SYSTEM_PYTHON) &&
  spawnSync(SYSTEM_PYTHON, ["-c", "import ensurepip, venv"]).status === 0;

// The tests start their own PostgreSQL server (test/helpers/postgres.ts), and so does the local
// cluster (scripts/cluster.mjs); the server never does.
const forTests = process.argv.includes("--tests");
const forCluster = process.argv.includes("--cluster");
const needsPostgres = forTests || forCluster;
const hasPostgresServer = () => {
  let versions = [];
  try {
    versions = fs.readdirSync("/usr/lib/postgresql");
  } catch {}
  return (
    versions.some((v) => fs.existsSync(path.join("/usr/lib/postgresql", v, "bin", "initdb"))) ||
    hasCommand("initdb")
  );
};

// Where the server looks for ffmpeg (src/recording/service.ts, findFfmpeg); the tests decode
// recordings with it too.
const FFMPEG_DIRS = ["/usr/bin", "/usr/local/bin", "/opt/homebrew/bin"];
const hasFfmpeg = () => FFMPEG_DIRS.some((d) => fs.existsSync(path.join(d, "ffmpeg")));

// Debian installs it in /usr/sbin, which is not on every user's PATH.
const hasHaproxy = () => hasCommand("haproxy") || fs.existsSync("/usr/sbin/haproxy");

const wanted = [];
if (!hasChromium()) wanted.push("chromium-headless-shell");
if (needsPostgres && !hasPostgresServer()) wanted.push("postgresql");
if (!hasPythonVenv()) wanted.push("python3", "python3-venv");
if (!hasCommand("bwrap")) wanted.push("bubblewrap");
if (!hasCommand("setpriv") || !hasCommand("prlimit")) wanted.push("util-linux");
if (!hasFfmpeg()) wanted.push("ffmpeg");
if (!hasHaproxy()) wanted.push("haproxy");

if (wanted.length === 0) {
  log(
    `system packages: present (Chromium headless shell, bubblewrap, Python 3 venv, util-linux, ffmpeg, HAProxy${needsPostgres ? ", PostgreSQL" : ""})`,
  );
} else {
  const isRoot = process.getuid?.() === 0;
  const hasApt = hasCommand("apt-get");
  const command = `apt-get update && apt-get install -y ${wanted.join(" ")}`;
  if (isRoot && hasApt) {
    log(`installing system packages with apt-get: ${wanted.join(", ")} (a few minutes)...`);
    const t = Date.now();
    try {
      execFileSync("sh", ["-c", command], {
        stdio: ["ignore", "inherit", "inherit"],
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      });
      log(`system packages installed in ${since(t)}`);
    } catch {
      console.error(`[setup] apt-get failed. Run it yourself:\n  ${command}`);
      process.exit(1);
    }
  } else {
    console.error(
      `[setup] missing system packages: ${wanted.join(", ")}.\n` +
        `[setup] Run this, then try again:\n  sudo sh -c '${command}'`,
    );
    if (
      !hasChromium() ||
      (needsPostgres && !hasPostgresServer()) ||
      (forCluster && !hasHaproxy()) ||
      (forTests && !hasFfmpeg())
    ) {
      process.exit(1);
    }
    console.error(
      "[setup] continuing: what needs the missing packages stays disabled until they are installed.",
    );
  }
}

if (needsPostgres && !hasPostgresServer()) {
  console.error(
    `[setup] ${forTests ? "the tests need" : "the local cluster needs"} PostgreSQL's server ` +
      "binaries (initdb), still missing after the step above. Install them: " +
      "apt-get install -y postgresql",
  );
  process.exit(1);
}
if (forTests && !hasFfmpeg()) {
  console.error(
    "[setup] the tests need ffmpeg (session recordings), still missing after the step above. " +
      "Install it: apt-get install -y ffmpeg",
  );
  process.exit(1);
}
if (forCluster && !hasHaproxy()) {
  console.error(
    "[setup] the local cluster needs HAProxy, still missing after the step above. Install it: " +
      "apt-get install -y haproxy",
  );
  process.exit(1);
}

// 3. Playwright for Python, in the project's own venv, at the version of playwright-core: the
//    python runner talks to the node runner's Playwright, so both ends must speak one protocol.
//    No browser download: it only connects.
const venv = path.join(root, ".venv");
const venvPython = path.join(venv, "bin", "python3");
const nodePlaywright = JSON.parse(
  fs.readFileSync(path.join(root, "node_modules", "playwright-core", "package.json"), "utf8"),
).version;
/** The version of `dist` (its dist-info name: `playwright`, `firecrawl_py`) installed in a venv. */
const installedVersion = (venvDir, dist) => {
  const lib = path.join(venvDir, "lib");
  if (!fs.existsSync(lib)) return undefined;
  for (const py of fs.readdirSync(lib)) {
    const site = path.join(lib, py, "site-packages");
    if (!fs.existsSync(site)) continue;
    const info = fs
      .readdirSync(site)
      .find((d) => d.startsWith(`${dist}-`) && d.endsWith(".dist-info"));
    if (info) return info.slice(dist.length + 1, -".dist-info".length);
  }
  return undefined;
};
/** pip's arguments to install `spec` quietly, with a few retries. */
const pipInstall = (spec) => [
  "-m",
  "pip",
  "install",
  "--disable-pip-version-check",
  "--no-input",
  "--progress-bar",
  "off",
  "--retries",
  "2",
  spec,
];
if (!hasPythonVenv()) {
  console.error("[setup] no system Python 3 with venv: the python language stays unavailable.");
} else if (installedVersion(venv, "playwright") !== nodePlaywright) {
  if (
    !fs.existsSync(venvPython) ||
    fs.realpathSync(venvPython) !== fs.realpathSync(SYSTEM_PYTHON)
  ) {
    log(`creating the Python virtual environment (${path.relative(root, venv)})`);
    fs.rmSync(venv, { recursive: true, force: true });
    if (!run(SYSTEM_PYTHON, ["-m", "venv", venv])) {
      console.error("[setup] could not create the venv; the python language stays unavailable.");
    }
  }
  if (fs.existsSync(venvPython)) {
    log(`installing Playwright for Python ${nodePlaywright} into .venv (pip)...`);
    const t = Date.now();
    const pip = pipInstall(`playwright==${nodePlaywright}`);
    if (run(venvPython, pip)) {
      log(`Playwright for Python installed in ${since(t)}`);
    } else {
      console.error(
        `[setup] pip could not install playwright==${nodePlaywright}; the python language stays ` +
          `unavailable. Try: ${venvPython} ${pip.join(" ")}`,
      );
    }
  }
} else {
  log(`Playwright for Python ${nodePlaywright}: present in .venv`);
}

// 4. For the tests: Firecrawl's official Python SDK (test/sdk-python.test.ts drives it against
//    the server), pinned, in a venv of its own. Not in .venv: every server copies that one's
//    site-packages into its sandbox when it starts, and the SDK's dependencies made each start
//    about twice as slow.
const FIRECRAWL_PY = "4.55.0";
const testsVenv = path.join(root, ".venv-tests");
const testsPython = path.join(testsVenv, "bin", "python3");
function installPythonSdk() {
  if (!hasPythonVenv()) {
    console.error(
      "[setup] no system Python 3 with venv: Firecrawl's Python SDK cannot be installed, " +
        "and test/sdk-python.test.ts will fail.",
    );
    return;
  }
  if (installedVersion(testsVenv, "firecrawl_py") === FIRECRAWL_PY) {
    log(`Firecrawl's Python SDK ${FIRECRAWL_PY}: present in .venv-tests`);
    return;
  }
  if (!fs.existsSync(testsPython)) {
    log(`creating the tests' Python virtual environment (${path.relative(root, testsVenv)})`);
    fs.rmSync(testsVenv, { recursive: true, force: true });
    run(SYSTEM_PYTHON, ["-m", "venv", testsVenv]);
  }
  const pip = pipInstall(`firecrawl-py==${FIRECRAWL_PY}`);
  log(`installing Firecrawl's Python SDK ${FIRECRAWL_PY} into .venv-tests (pip)...`);
  const t = Date.now();
  if (fs.existsSync(testsPython) && run(testsPython, pip)) {
    log(`Firecrawl's Python SDK installed in ${since(t)}`);
  } else {
    console.error(
      `[setup] could not install firecrawl-py==${FIRECRAWL_PY} into ${testsVenv}, so ` +
        `test/sdk-python.test.ts will fail. Try: ${testsPython} ${pip.join(" ")}`,
    );
  }
}
if (forTests) installPythonSdk();
log(`ready in ${since(started)}`);
