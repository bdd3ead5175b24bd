// `npm run cluster`: a local cluster on this machine to try many nodes with. A throwaway
// PostgreSQL, three nodes on loopback ports sharing it, and HAProxy in front of them
// (deploy/haproxy/haproxy.cfg: round robin, no stickiness, health checks on /health/ready).
// Ctrl-C stops HAProxy, then the nodes, then PostgreSQL, and removes every temporary folder.
// Runs after `scripts/setup.mjs --cluster` (package.json), which installs what is missing.
/* global fetch, AbortSignal */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { clearTimeout, setTimeout } from "node:timers";
import { fileURLToPath } from "node:url";
import { findExecutable, freePort, startPostgres } from "./throwaway-postgres.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const NODES = 3;
/** How long a node may take to start serving (tsx compiles the server on its first start). */
const START_MS = 120_000;
/** A node's drain on Ctrl-C, unless DRAIN_SECONDS says otherwise: a try-out, not production. */
const LOCAL_DRAIN_SECONDS = "10";
/** Past its drain, how long a node may take to close before it is killed. */
const CLOSE_GRACE_MS = 20_000;

const say = (msg) => console.error(`[cluster] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const publicPort = Number(process.env.CLUSTER_PORT || 3002);
if (!Number.isInteger(publicPort) || publicPort < 1 || publicPort > 65535) {
  say(`CLUSTER_PORT must be a port number (1-65535), not ${process.env.CLUSTER_PORT}`);
  process.exit(2);
}
const drainSeconds = process.env.DRAIN_SECONDS || LOCAL_DRAIN_SECONDS;
if (!/^\d+$/.test(drainSeconds)) {
  say(`DRAIN_SECONDS must be a whole number of seconds, not ${drainSeconds}`);
  process.exit(2);
}
const haproxy = findExecutable("haproxy", ["/usr/sbin", "/usr/local/sbin"]);
if (!haproxy) {
  say("HAProxy is not installed: apt-get install -y haproxy (npm run cluster does it as root)");
  process.exit(1);
}

/** Every process started here that may still run: name → child (each leads its own group). */
const children = new Map();
let stopping = false;
let ready = false;
let postgres; // { url, stop } once started
let postgresStarting; // the start in progress, for a Ctrl-C that comes meanwhile
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fc-cluster-"));
// PostgreSQL's account (as root) and the sandboxes' uids must pass through to their folders.
fs.chmodSync(tmp, 0o711);

/** Kills a child's whole process group; nothing if it is gone. */
function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {}
}

// Last resort, whatever way this process ends: nothing it started outlives it.
process.on("exit", () => {
  for (const child of children.values()) killGroup(child, "SIGKILL");
});

/**
 * Starts `file` in a process group of its own (a Ctrl-C at the terminal reaches only this
 * script, which stops each part in order), its output shown line by line under its name.
 */
function start(name, file, args, env) {
  const child = spawn(file, args, {
    cwd: root,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.set(name, child);
  const recent = [];
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on("line", (line) => {
      recent.push(line);
      if (recent.length > 40) recent.shift();
      process.stdout.write(`[${name}] ${line}\n`);
    });
  }
  child.exited = new Promise((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal)),
  );
  child.exited.then((how) => {
    children.delete(name);
    if (ready && !stopping) say(`${name} exited (${how}); the others go on serving`);
  });
  child.recent = recent;
  return child;
}

/** Polls `url` until it answers 200; throws if `child` exits, Ctrl-C comes or time runs out. */
async function waitFor(url, child, name) {
  const deadline = Date.now() + START_MS;
  while (Date.now() < deadline) {
    if (stopping) throw new Error("stopped");
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited while starting:\n${child.recent.join("\n")}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {}
    await sleep(200);
  }
  throw new Error(`${name} did not answer ${url} within ${START_MS / 1000} s`);
}

/** True when nothing listens on 127.0.0.1:`port`. */
function portIsFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** Stops `child` with `signal`, then kills its group if it has not exited within `graceMs`. */
async function stopChild(child, signal, graceMs) {
  if (child.exitCode === null && child.signalCode === null) {
    try {
      child.kill(signal);
    } catch {}
    const late = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
    await child.exited;
    clearTimeout(late);
  }
  // Anything the child left in its group (it supervises its own, this is the safety net).
  killGroup(child, "SIGKILL");
}

let stopped;
/** HAProxy first (no new requests), then the nodes (they drain), then PostgreSQL, then folders. */
function stopAll() {
  stopping = true;
  stopped ??= (async () => {
    const proxy = children.get("haproxy");
    if (proxy) await stopChild(proxy, "SIGTERM", 5_000);
    const nodes = [...children.entries()].filter(([name]) => name.startsWith("node-"));
    if (nodes.length > 0) say(`stopping ${nodes.map(([name]) => name).join(", ")}...`);
    const graceMs = Number(drainSeconds) * 1000 + CLOSE_GRACE_MS;
    await Promise.all(nodes.map(([, child]) => stopChild(child, "SIGTERM", graceMs)));
    await postgresStarting?.catch(() => {});
    if (postgres) await postgres.stop().catch((err) => say(`PostgreSQL: ${err.message}`));
    fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  })();
  return stopped;
}

let signals = 0;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    if (++signals > 1) {
      say("stopping at once");
      for (const child of children.values()) killGroup(child, "SIGKILL");
      return;
    }
    say(`${signal}: stopping the cluster (again to kill at once)`);
    stopAll().then(() => {
      say("stopped; temporary folders removed");
      process.exit(0);
    });
  });
}

async function main() {
  if (!(await portIsFree(publicPort))) {
    throw new Error(`port ${publicPort} is taken; choose another with CLUSTER_PORT=...`);
  }
  const publicUrl = `http://127.0.0.1:${publicPort}`;

  say(`temporary folders (database, each node's DATA_DIR) in ${tmp}`);
  say("starting PostgreSQL...");
  postgresStarting = startPostgres(tmp);
  postgres = await postgresStarting;
  if (stopping) return;

  const secret = randomBytes(36).toString("base64url"); // 48 characters
  const nodes = [];
  for (let i = 1; i <= NODES; i++) {
    const port = await freePort();
    const dataDir = path.join(tmp, `node-${i}`);
    fs.mkdirSync(dataDir, { mode: 0o711 });
    nodes.push({ name: `node-${i}`, port, dataDir, url: `http://127.0.0.1:${port}` });
  }
  const startNode = (node) => {
    const env = {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: String(node.port),
      NODE_ID: node.name,
      NODE_URL: node.url,
      CLUSTER_SECRET: secret,
      DATABASE_URL: postgres.url,
      PUBLIC_URL: publicUrl,
      DATA_DIR: node.dataDir,
      DRAIN_SECONDS: drainSeconds,
      LOG_FORMAT: process.env.LOG_FORMAT || (process.stdout.isTTY ? "pretty" : "json"),
    };
    const child = start(node.name, process.execPath, ["--import", "tsx", "src/main.ts"], env);
    return waitFor(`${node.url}/health/live`, child, node.name);
  };
  // The first node alone makes the database's tables; the others start together after it.
  say(`starting ${nodes.map((n) => `${n.name} on ${n.url}`).join(", ")}...`);
  await startNode(nodes[0]);
  await Promise.all(nodes.slice(1).map(startNode));

  const proxy = start("haproxy", haproxy, ["-db", "-f", "deploy/haproxy/haproxy.cfg"], {
    ...process.env,
    CLUSTER_BIND: `127.0.0.1:${publicPort}`,
    ...Object.fromEntries(nodes.map((n, i) => [`NODE_${i + 1}_ADDR`, `127.0.0.1:${n.port}`])),
  });
  await waitFor(`${publicUrl}/health/live`, proxy, "haproxy");

  ready = true;
  say(`ready: ${publicUrl} (HAProxy, round robin over ${nodes.map((n) => n.name).join(", ")})`);
  say("Ctrl-C stops it all.");
}

main().catch(async (err) => {
  // After a Ctrl-C the signal's handler stops everything and exits.
  if (stopping) return;
  say(`could not start: ${err.message}`);
  await stopAll();
  process.exit(1);
});
