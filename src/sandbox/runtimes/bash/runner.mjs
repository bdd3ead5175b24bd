/* global Buffer, setTimeout, clearTimeout */
// The bash sandbox runner: runs each request's script with bash, in its own process group, with
// the usual shell tools and agent-browser on PATH (already pointed at this session's browser).
// The server sends newline-delimited JSON requests on fd 3 and reads the answers there.
//
// Nothing a script starts outlives its call, except agent-browser's daemon: it holds the refs of
// the last snapshot, so `agent-browser click @e3` in one call works on a snapshot taken in an
// earlier one. That daemon is the one this runner has agent-browser start, with the runner's own
// environment, before the first script; it is known by its pid from then on: a script's own
// program dressed as a daemon (the same binary, told it is one, with a library preloaded into
// it) is ended with the call like anything else. It dies with the session's sandbox.
//
// Requests: {op:"connect"} and {op:"attach"} (nothing to do: agent-browser connects on its first
// command), {op:"exec", code, timeoutMs}.
//
// Usage: node runner.mjs <output limit in characters> <agent-browser binary> [reap]
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { serveChannel } from "../shared/channel.mjs";

const [limitArg, agentBrowser, ...flags] = process.argv.slice(2);
const limit = Number(limitArg) || 1024 * 1024;
const reap = flags.includes("reap");
const TIMED_OUT = 124;
/** After the script exits, how long its output may still arrive from what it left behind. */
const DRAIN_MS = 50;
/** Longer scripts than this go through a file: one argument may hold at most 128 KiB. */
const MAX_INLINE_BYTES = 96 * 1024;

/** Collects one stream up to `limit` characters. */
class Bounded {
  constructor() {
    this.text = "";
    this.truncated = false;
  }
  /** @param {string} chunk */
  add(chunk) {
    const room = limit - this.text.length;
    if (chunk.length > room) {
      this.truncated = true;
      chunk = chunk.slice(0, Math.max(0, room));
    }
    this.text += chunk;
  }
}

let runs = 0;

/**
 * The scripts' environment: agent-browser on PATH and attached to the session's browser (the
 * sandbox's debugging port, BROWSER_CDP_URL) without flags.
 */
function scriptEnv() {
  let bin = path.dirname(agentBrowser);
  if (path.basename(agentBrowser) !== "agent-browser") {
    // Outside the sandbox the binary has its platform in its name: give it the usual one.
    bin = fs.mkdtempSync(path.join(os.tmpdir(), "fc-bash-bin-"));
    fs.symlinkSync(agentBrowser, path.join(bin, "agent-browser"));
  }
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}` };
  if (process.env.BROWSER_CDP_URL) env.AGENT_BROWSER_CDP = process.env.BROWSER_CDP_URL;
  // There is no network to check for a newer Chrome with.
  env.AGENT_BROWSER_NO_VERSION_CHECK = "1";
  return env;
}
const env = scriptEnv();

/** Where agent-browser's daemon for the default session says who it is (its own files). */
const DAEMON_PID_FILE = path.join(env.HOME ?? os.homedir(), ".agent-browser", "default.pid");
/** How long the command that starts the daemon may take. */
const DAEMON_START_MS = 10_000;
/** The pid of the daemon this runner had started, while it runs. */
let daemonPid;

/**
 * Has agent-browser start its daemon for the session, as its own commands do, when none of
 * ours runs (the first call, or one after a script ended it), and notes its pid before any
 * script can touch its files. Without it a script's command starts a daemon of its own, which
 * is ended with the call (its refs with it).
 */
async function ensureDaemon() {
  if (daemonPid !== undefined && isAgentBrowser(daemonPid)) return;
  daemonPid = undefined;
  await new Promise((resolve) => {
    const child = spawn(agentBrowser, ["get", "url"], { env, stdio: "ignore" });
    const timer = setTimeout(() => child.kill("SIGKILL"), DAEMON_START_MS);
    child.once("error", resolve);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  try {
    const pid = Number(fs.readFileSync(DAEMON_PID_FILE, "utf8").trim());
    if (Number.isInteger(pid) && isAgentBrowser(pid)) daemonPid = pid;
  } catch {
    // no daemon came up: scripts start their own
  }
}

function isAgentBrowser(pid) {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`) === agentBrowser;
  } catch {
    return false;
  }
}

/** Runs one script; resolves with the interact fields. */
function exec({ code, timeoutMs }) {
  const stdout = new Bounded();
  const stderr = new Bounded();
  let args = ["--noprofile", "--norc", "-c", code];
  if (Buffer.byteLength(code) > MAX_INLINE_BYTES) {
    const file = `/tmp/.interact-${++runs}.sh`;
    fs.writeFileSync(file, code);
    args = ["--noprofile", "--norc", file];
  }
  return new Promise((resolve) => {
    let child;
    try {
      // detached: its own process group, so a timeout kills the script with its children.
      child = spawn("/bin/bash", args, { stdio: ["ignore", "pipe", "pipe"], detached: true, env });
    } catch (err) {
      return resolve(failure(stdout, stderr, `Could not start bash: ${err.message}`, 1));
    }
    child.stdout.setEncoding("utf8").on("data", (c) => stdout.add(c));
    child.stderr.setEncoding("utf8").on("data", (c) => stderr.add(c));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      killGroup(child.pid);
    }, timeoutMs);
    child.once("error", (err) => {
      clearTimeout(timer);
      resolve(failure(stdout, stderr, `Could not start bash: ${err.message}`, 1));
    });
    let status;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      killGroup(child.pid);
      child.stdout.destroy();
      child.stderr.destroy();
      if (killed) {
        return resolve(
          failure(stdout, stderr, `Execution timed out after ${timeoutMs} ms`, TIMED_OUT, true),
        );
      }
      const exitCode = status.code ?? 128 + signalNumber(status.signal);
      const out = {
        stdout: stdout.text,
        stderr: stderr.text,
        // Firecrawl's alias: a script's result is what it printed.
        result: stdout.text,
        exitCode,
        killed: false,
        truncated: stdout.truncated || stderr.truncated,
      };
      if (exitCode !== 0) out.error = lastLine(stderr.text) || `Exited with code ${exitCode}`;
      resolve(out);
    };
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      status = { code, signal };
      // What it left running may still hold the pipes: their last output gets a moment.
      setTimeout(finish, DRAIN_MS);
    });
    // Both pipes closed with the script: nothing left to wait for.
    child.once("close", () => status && finish());
  });
}

function failure(stdout, stderr, error, exitCode, killed = false) {
  return {
    stdout: stdout.text,
    stderr: stderr.text,
    result: stdout.text,
    exitCode,
    killed,
    error,
    truncated: stdout.truncated || stderr.truncated,
  };
}

function killGroup(pid) {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function lastLine(text) {
  return text.trim().split("\n").at(-1) ?? "";
}

function signalNumber(signal) {
  return (signal && os.constants.signals[signal]) || 9;
}

/**
 * Ends every process the run started, in the sandbox's own pid namespace (the runner is pid 2),
 * except the agent-browser daemon this runner started.
 */
async function reapChildren() {
  if (process.pid > 2) return;
  const end = Date.now() + 2_000;
  while (Date.now() < end) {
    const others = otherPids().filter((pid) => pid !== daemonPid);
    if (others.length === 0) return;
    for (const pid of others) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone, or a zombie waiting for its parent
      }
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

function otherPids() {
  return fs
    .readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => pid > 2 && pid !== process.pid);
}

// ---- protocol ----
async function handle(req, send) {
  if (req.op === "connect" || req.op === "attach") {
    send({ id: req.id, ok: true });
  } else if (req.op === "exec") {
    if (reap) await ensureDaemon();
    const result = await exec(req);
    if (reap) await reapChildren();
    send({ id: req.id, ok: true, result });
  }
}

serveChannel(handle);
