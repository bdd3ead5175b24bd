import { STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyInstance } from "fastify";
import { AppError } from "../errors/app-error.js";
import { BAD_PATH } from "./error-handler.js";
import { ERROR_STATUS } from "./errors.js";

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
      if (!url) return rejectUpgrade(socket, new AppError("BAD_REQUEST", BAD_PATH));
      const match = this.handlers.find((h) => url.pathname.startsWith(h.prefix));
      if (!match) return rejectUpgrade(socket, new AppError("NOT_FOUND", "Not Found"));
      try {
        match.handler(req, socket, head, url);
      } catch (err) {
        app.log.error({ err }, "upgrade handler failed");
        rejectUpgrade(socket, new AppError("INTERNAL", "Internal Server Error"));
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

/**
 * The HTTP answer to a refused upgrade, as for any other request: the error's status, the usual
 * JSON body with its code, and Retry-After when a retry can succeed.
 */
export function upgradeRefusal(err: AppError): {
  status: number;
  headers: OutgoingHttpHeaders;
  body: string;
} {
  const body = JSON.stringify({
    success: false,
    code: err.code,
    error: err.message,
    ...(err.details === undefined ? {} : { details: err.details }),
  });
  const headers: OutgoingHttpHeaders = { "Content-Type": "application/json" };
  const retry = err.hints.retryAfterSeconds;
  if (retry !== undefined) headers["Retry-After"] = String(Math.max(1, Math.ceil(retry)));
  return { status: ERROR_STATUS[err.code], headers, body };
}

/** Answers an upgrade request with the error, in the usual JSON shape, and closes it. */
export function rejectUpgrade(socket: Duplex, err: AppError): void {
  if (socket.destroyed) return;
  const { status, headers, body } = upgradeRefusal(err);
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${String(value)}\r\n`);
  // The reason phrase is the standard one: the message may hold anything, the status line not.
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n${lines.join("")}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
