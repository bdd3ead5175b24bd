import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyInstance } from "fastify";

/**
 * A handler for WebSocket upgrades under one path prefix. It owns the socket from then on:
 * it must either complete the upgrade or write an HTTP error and destroy the socket.
 */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => void;

/** Routes HTTP upgrade requests by path prefix; anything unclaimed gets a 404 and is closed. */
export class UpgradeRegistry {
  private readonly handlers: { prefix: string; handler: UpgradeHandler }[] = [];

  add(prefix: string, handler: UpgradeHandler): void {
    this.handlers.push({ prefix, handler });
  }

  /** Hooks the registry to the app's HTTP server. Call once, before listen. */
  attach(app: FastifyInstance): void {
    app.server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on("error", () => socket.destroy());
      const url = new URL(req.url ?? "/", "http://upgrade.local");
      const match = this.handlers.find((h) => url.pathname.startsWith(h.prefix));
      if (!match) return rejectUpgrade(socket, 404, "Not Found");
      try {
        match.handler(req, socket, head, url);
      } catch (err) {
        app.log.error({ err }, "upgrade handler failed");
        rejectUpgrade(socket, 500, "Internal Server Error");
      }
    });
  }
}

/** Answers an upgrade request with a plain HTTP error and closes the connection. */
export function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ success: false, error: message });
  socket.end(
    `HTTP/1.1 ${status} ${message}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
