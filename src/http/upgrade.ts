import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { ErrorCode } from "../errors/app-error.js";
import { BAD_PATH } from "./error-handler.js";

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
      const url = parseUpgradeUrl(req.url);
      if (!url) return rejectUpgrade(socket, 400, BAD_PATH);
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

/**
 * The request's URL, or undefined when it does not parse or its path does not percent-decode.
 * Checked once here so that no handler's decodeURIComponent can throw (an escaped throw in an
 * 'upgrade' listener would take the whole server down; a caught one would still be a 500).
 */
function parseUpgradeUrl(raw: string | undefined): URL | undefined {
  try {
    const url = new URL(raw ?? "/", "http://upgrade.local");
    decodeURIComponent(url.pathname);
    return url;
  } catch {
    return undefined;
  }
}

/** The code an upgrade refusal carries, for the statuses handlers refuse with. */
const UPGRADE_CODES: Partial<Record<number, ErrorCode>> = {
  400: "BAD_REQUEST",
  404: "NOT_FOUND",
  500: "INTERNAL",
};

/** Answers an upgrade request with an HTTP error in the usual JSON shape and closes it. */
export function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ success: false, code: UPGRADE_CODES[status], error: message });
  // The reason phrase is the standard one: the message may hold anything, the status line not.
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
