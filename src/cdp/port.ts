import http from "node:http";
import type net from "node:net";
import type { CdpMux, ListenOptions } from "./mux.js";

/**
 * Serves one browser the way Chromium's own debugging port would, on a listener made elsewhere
 * (inside a sandbox's network namespace): `GET /json/version` names the WebSocket URL, and
 * every WebSocket becomes one more client of the browser's multiplexer (its own CDP sessions,
 * nothing of other clients'). For tools that only connect to a port (agent-browser, or
 * Playwright's `connectOverCDP("http://...")`).
 */
export function serveCdpPort(
  mux: CdpMux,
  listener: net.Server,
  opts: ListenOptions,
): { close(): void } {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!.replace(/\/+$/, "");
    if (req.method !== "GET" || path !== "/json/version") {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not found\n");
      return;
    }
    // The address the client used, so the URL works from where it stands.
    const host = /^[A-Za-z0-9.:[\]-]+$/.test(req.headers.host ?? "")
      ? req.headers.host!
      : "127.0.0.1";
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({
        Browser: "Chrome",
        "Protocol-Version": "1.3",
        webSocketDebuggerUrl: `ws://${host}/devtools/browser`,
      }),
    );
  });
  const wss = mux.serve(server, opts);
  listener.on("connection", (socket) => server.emit("connection", socket));
  let closed = false;
  return {
    close() {
      if (closed) return;
      closed = true;
      listener.close(() => {}); // already closed when its namespace's runner went first
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
    },
  };
}
