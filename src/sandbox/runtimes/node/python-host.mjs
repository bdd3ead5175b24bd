/* global Buffer, setTimeout */
// Serves this runner's Playwright to the session's python runner, so python needs no Playwright
// driver of its own (a second Node process with Playwright's server side would more than double a
// session's memory). The python runner lives in another sandbox; the server pairs each of its
// connections with one this runner dialled back on /run/playwright-host.sock, and relays bytes.
//
// Each connection is one Playwright client, like the driver's stdin/stdout: 4-byte little-endian
// length, then a JSON message. Its root object is the browser this runner is connected to,
// shared (the client sees the same contexts and pages as node; closing it closes nothing here).
import net from "node:net";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const REDIAL_MS = 500;
/** A message longer than this is not Playwright talking: the connection is dropped. */
const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/**
 * Keeps one idle connection dialled to the server at all times; the first bytes on it make it a
 * live client and the next one is dialled.
 * @param {string} socketPath
 * @param {import("./browser.mjs").BrowserLink} link
 */
export function hostPythonClients(socketPath, link) {
  let stopped = false;
  const dial = () => {
    if (stopped) return;
    const socket = net.connect(socketPath);
    let used = false;
    socket.once("error", () => {});
    socket.once("close", () => {
      if (!used) setTimeout(dial, REDIAL_MS).unref();
    });
    socket.once("readable", () => {
      if (used) return;
      used = true;
      dial();
      serve(socket, link).catch(() => socket.destroy());
    });
  };
  dial();
  return () => (stopped = true);
}

/**
 * @param {net.Socket} socket
 * @param {import("./browser.mjs").BrowserLink} link
 */
async function serve(socket, link) {
  socket.pause();
  const browser = await link.connect();
  const { server } = require("playwright-core/lib/coreBundle");
  const toImpl = /** @type {any} */ (browser)._connection.toImpl;
  const shared = toImpl(browser);
  const connection = new server.DispatcherConnection();
  const root = new server.RootDispatcher(
    connection,
    async (scope) =>
      new server.PlaywrightDispatcher(scope, shared.attribution.playwright, {
        preLaunchedBrowser: shared,
        sharedBrowser: true,
      }),
  );
  connection.onmessage = (message) => {
    if (socket.destroyed) return;
    const data = Buffer.from(JSON.stringify(message, wellFormed), "utf8");
    const header = Buffer.alloc(4);
    header.writeUInt32LE(data.length, 0);
    socket.write(header);
    socket.write(data);
  };
  let pending = Buffer.alloc(0);
  socket.on("data", (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 4) {
      const size = pending.readUInt32LE(0);
      if (size > MAX_FRAME_BYTES) return void socket.destroy();
      if (pending.length < 4 + size) break;
      const text = pending.subarray(4, 4 + size).toString("utf8");
      pending = pending.subarray(4 + size);
      let message;
      try {
        message = JSON.parse(text);
      } catch {
        return void socket.destroy();
      }
      void connection.dispatch(message);
    }
  });
  socket.on("error", () => {});
  socket.once("close", () => {
    connection.onmessage = () => {};
    root._dispose();
  });
  socket.resume();
}

/** Python's JSON decoder rejects lone surrogates; Playwright's own driver repairs them too. */
function wellFormed(_key, value) {
  return typeof value === "string" && value.toWellFormed ? value.toWellFormed() : value;
}
