/* global Buffer, setTimeout, clearTimeout */
// The bash sandbox runner: runs each request's script with bash, in its own process group, with
// the usual shell tools and agent-browser on PATH (already pointed at this session's browser).
// The server sends newline-delimited JSON requests on fd 3 and reads the answers there.
//
// Nothing a script starts outlives its call, except agent-browser's daemon: it holds the refs of
// the last snapshot, so `agent-browser click @e3` in one call works on a snapshot taken in an
// earlier one. It dies with the session's sandbox.
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
 * except agent-browser's daemons: a daemon is the agent-browser binary itself, run as a daemon.
 */
async function reapChildren() {
  if (process.pid > 2) return;
  const end = Date.now() + 2_000;
  while (Date.now() < end) {
    const others = otherPids().filter((pid) => !isAgentBrowserDaemon(pid));
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

function isAgentBrowserDaemon(pid) {
  try {
    if (fs.readlinkSync(`/proc/${pid}/exe`) !== agentBrowser) return false;
    return fs.readFileSync(`/proc/${pid}/environ`, "latin1").includes("AGENT_BROWSER_DAEMON=1");
  } catch {
    return false;
  }
}

// ---- protocol ----
async function handle(req, send) {
  if (req.op === "connect" || req.op === "attach") {
    send({ id: req.id, ok: true });
  } else if (req.op === "exec") {
    const result = await exec(req);
    if (reap) await reapChildren();
    send({ id: req.id, ok: true, result });
  }
}

serveChannel(handle);
