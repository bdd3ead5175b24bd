/* global setTimeout, clearTimeout */
// The sandbox runner: a persistent REPL for one session. The server sends newline-delimited
// JSON requests on fd 3 and reads answers there; fd 3 rather than stdin/stdout so that a child
// process user code starts with inherited stdio cannot garble the protocol. The code arrives
// already rewritten by the server (src/sandbox/transform.ts): this file only runs it.
//
// Requests: {op:"connect"} connects to the browser; {op:"attach"} also binds the current page
// and waits briefly for it to finish loading (after a restore); {op:"exec", kind, code,
// timeoutMs} runs code.
//
// With python-host=<socket>, it also serves its Playwright to the session's python runner
// (python-host.mjs).
//
// Usage: node runner.mjs <cdp unix socket> <output limit in characters> [reap] [python-host=<socket>]
import fs from "node:fs";
import { createRequire } from "node:module";
import vm from "node:vm";
import { BrowserLink } from "./browser.mjs";
import { OutputCapture, describeError, formatResult } from "./capture.mjs";
import { hostPythonClients } from "./python-host.mjs";
import { serveChannel } from "../shared/channel.mjs";

const [socketPath, limitArg, ...flags] = process.argv.slice(2);
const reap = flags.includes("reap");
const pythonHost = flags.find((f) => f.startsWith("python-host="))?.slice("python-host=".length);
const limit = Number(limitArg) || 1024 * 1024;
const TIMED_OUT = 124;

const capture = new OutputCapture(limit);
capture.install();
const link = new BrowserLink(socketPath);
if (pythonHost) hostPythonClients(pythonHost, link);

// Host globals user code expects in Node; a fresh vm context only has the language built-ins.
const HOST_GLOBALS = [
  "setTimeout",
  "clearTimeout",
  "setInterval",
  "clearInterval",
  "setImmediate",
  "clearImmediate",
  "queueMicrotask",
  "structuredClone",
  "Buffer",
  "URL",
  "URLSearchParams",
  "TextEncoder",
  "TextDecoder",
  "AbortController",
  "AbortSignal",
  "atob",
  "btoa",
  "performance",
  "fetch",
  "Headers",
  "Request",
  "Response",
  "Blob",
  "EventTarget",
  "Event",
];
const globals = {
  console: capture.console(),
  require: createRequire(import.meta.url),
  process,
};
for (const name of HOST_GLOBALS) if (name in globalThis) globals[name] = globalThis[name];
const context = vm.createContext(globals, { name: "interact" });

/** Runs one request: `script` code's completion value or `async` code's promise is the result. */
async function exec({ kind, code, timeoutMs }) {
  let bound;
  try {
    bound = await link.bind(globals);
  } catch (err) {
    const { message } = describeError(err);
    return failure(`Could not connect to the session's browser: ${message}`, 1);
  }
  Object.assign(globals, bound);
  // Playwright's own waits give up before the run does, so its message (the locator it waited
  // for) is the error, not "Execution timed out". Code may set its own.
  bound.context.setDefaultTimeout(actionTimeoutMs(timeoutMs));

  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(timeoutError(timeoutMs)), timeoutMs);
  });
  try {
    const script = new vm.Script(code, {
      filename: "interact.js",
      // `await import("node:fs")` in user code, resolved as the runner's own imports are
      // (the plain callback form needs --experimental-vm-modules).
      importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER ?? ((s) => import(s)),
    });
    // `timeout` stops synchronous loops; the race below stops a run waiting on a promise.
    let value = script.runInContext(context, { timeout: timeoutMs, displayErrors: false });
    if (kind === "async" || isThenable(value)) value = await Promise.race([value, deadline]);
    const { result, truncated } = formatResult(value, limit);
    const out = capture.take();
    return { ...out, result, exitCode: 0, killed: false, truncated: out.truncated || truncated };
  } catch (err) {
    if (err?.code === "ERR_SCRIPT_EXECUTION_TIMEOUT" || err?.timedOut) {
      return failure(`Execution timed out after ${timeoutMs} ms`, TIMED_OUT, true);
    }
    const { message, stack } = describeError(err);
    capture.write("stderr", `${stack}\n`);
    return failure(message, 1);
  } finally {
    clearTimeout(timer);
  }
}

function failure(error, exitCode, killed = false) {
  const out = capture.take();
  return { ...out, result: "", exitCode, killed, error };
}

/**
 * Playwright's default timeout within a run of `ms`: a tenth shorter (between half a second and
 * five seconds), so its error reaches the caller before the run's own timeout.
 */
function actionTimeoutMs(ms) {
  return Math.max(100, ms - Math.min(5000, Math.max(500, ms / 10)));
}

function timeoutError(ms) {
  return Object.assign(new Error(`Execution timed out after ${ms} ms`), { timedOut: true });
}

function isThenable(v) {
  return (
    v !== null && (typeof v === "object" || typeof v === "function") && typeof v.then === "function"
  );
}

/**
 * Ends every process a run started (a fork bomb, a forgotten server) so nothing keeps burning
 * CPU between runs. Only inside the sandbox's own pid namespace, where the runner is pid 2 and
 * kill(-1) reaches just its own descendants; on the host it would reach far too much.
 */
async function reapChildren() {
  if (process.pid > 2) return;
  // Killed processes stay listed until the sandbox's init collects them: wait for that (bounded),
  // so the next run starts with nothing of this one's left, zombies included.
  const end = Date.now() + 2_000;
  while (Date.now() < end) {
    const others = fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d) && Number(d) > 2);
    if (others.length === 0) return;
    try {
      process.kill(-1, "SIGKILL");
    } catch {
      // nothing left that we may signal: only zombies remain
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

// ---- protocol ----
async function handle(req, send) {
  if (req.op === "connect" || req.op === "attach") {
    try {
      if (req.op === "connect") await link.connect();
      else await link.attach(globals);
      send({ id: req.id, ok: true });
    } catch (err) {
      send({ id: req.id, ok: false, error: describeError(err).message });
    }
  } else if (req.op === "exec") {
    const result = await exec(req);
    if (reap) await reapChildren();
    send({ id: req.id, ok: true, result });
  }
}

serveChannel(handle);
