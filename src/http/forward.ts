import http, { type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import replyFrom from "@fastify/reply-from";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { PROOF_HEADER, type NodeProof } from "../cluster/proof.js";
import type { SessionRouter } from "../cluster/router.js";
import type { TokenUse } from "../sessions/session-index.js";
import { AppError } from "../errors/app-error.js";
import type { RouteDoc } from "../openapi/route-doc.js";
import { rejectUpgrade } from "./upgrade.js";

/** Which session a route names, for sending it to the node that holds it. */
type SessionTarget = NonNullable<RouteDoc["session"]>;

declare module "fastify" {
  interface FastifyContextConfig {
    /** The session the route names: answered by the node that holds it (see registerForwarding). */
    session?: SessionTarget;
  }
  interface FastifyRequest {
    /** The node that forwarded this request, when a valid proof says one did. */
    fromNode?: string;
  }
}

/** This node's part in a cluster: how it proves itself and where sessions are. */
export interface Forwarding {
  proof: NodeProof;
  router: SessionRouter;
}

/** A request whose node proof does not hold: refused without saying what is wrong with it. */
function badProof(): AppError {
  return new AppError("UNAUTHORIZED", "Unauthorized: the request's node proof is not valid.");
}

/** The owner of a session could not be reached: it may be going away, or just busy. */
function ownerUnreachable(): AppError {
  return new AppError(
    "SESSION_ON_OTHER_NODE",
    "The node holding this session did not answer; retry shortly.",
    undefined,
    { retryAfterSeconds: 2 },
  );
}

/**
 * Checks the proof on every request that carries one (a bad or stale one is refused, 401,
 * without saying why; a public route ignores it) and, in a cluster, sends every request that names a session held by another node
 * to that node: method, path, headers (the caller's key included: the owner authenticates it on
 * the same database) and body go as they came, and its answer comes back as it gave it. A
 * forwarded request is answered where it lands, never forwarded again.
 */
export function registerForwarding(app: FastifyInstance, forwarding: Forwarding | undefined): void {
  app.decorateRequest("fromNode", undefined);
  app.addHook("onRequest", async (req) => {
    const header = req.headers[PROOF_HEADER];
    if (header === undefined) return;
    const from =
      forwarding && typeof header === "string"
        ? forwarding.proof.verify(header, req.method, req.url)
        : undefined;
    if (from) {
      req.fromNode = from;
      return;
    }
    // A public route is served as to anyone: the proof would change nothing there.
    if (req.routeOptions.config.access !== "public") throw badProof();
  });
  if (!forwarding) return;
  const { proof, router } = forwarding;
  app.register(replyFrom, {
    // Calls run up to their timeout (minutes); the owner bounds them, not the hop.
    undici: { headersTimeout: 0, bodyTimeout: 0 },
  });
  // Before validation: the body goes on exactly as the client sent it, not as parsing made it.
  app.addHook("preValidation", async (req: FastifyRequest, reply: FastifyReply) => {
    const target = req.routeOptions.config.session;
    if (!target || req.fromNode) return;
    const key = keyOf(target, req.params);
    const route = key
      ? await router.forKey(key, { creates: !!target.creates })
      : target.creates
        ? await router.forNew()
        : { here: true as const };
    if (route.here) return;
    sendTo(route.url, req, reply, proof, () => key && router.forget(key));
    return reply;
  });
}

/** The key of the session a route names, as stored (ids are kept in lower case). */
function keyOf(target: SessionTarget, params: unknown): string | undefined {
  const raw = target.param ? (params as Record<string, unknown>)[target.param] : undefined;
  return typeof raw === "string" ? raw.toLowerCase() : undefined;
}

/**
 * Hands a WebSocket upgrade to the node at `base` (same path and query, with this node's proof)
 * and joins the two sockets once it accepts; its refusal (status, headers, body) goes back as it
 * gave it. Each socket's pipe waits for the other to drain: a slow reader slows the writer.
 */
export function forwardUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  base: string,
  proof: NodeProof,
): void {
  const path = req.url ?? "/";
  const target = new URL(path, base);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && name !== PROOF_HEADER) headers[name] = value;
  }
  headers[PROOF_HEADER] = proof.sign(req.method ?? "GET", path);
  const upstream = http.request(target, { method: req.method, headers });
  const fail = () => rejectUpgrade(socket, ownerUnreachable());
  upstream.on("error", fail);
  upstream.on("response", (res) => {
    // A refusal: relayed whole, then both sides close.
    socket.write(statusLines(res));
    res.pipe(socket);
  });
  upstream.on("upgrade", (res, owner, ownerHead) => {
    upstream.off("error", fail);
    socket.write(statusLines(res));
    if (ownerHead.length > 0) socket.write(ownerHead);
    if (head.length > 0) owner.write(head);
    const end = () => {
      owner.destroy();
      socket.destroy();
    };
    owner.on("error", end).on("close", end);
    socket.on("error", end).on("close", end);
    owner.pipe(socket);
    socket.pipe(owner);
  });
  socket.on("close", () => upstream.destroy());
  upstream.end();
}

/** The status line and headers of `res`, as they were sent. */
function statusLines(res: IncomingMessage): string {
  const lines = [`HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ""}`];
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
  }
  return lines.join("\r\n") + "\r\n\r\n";
}

/**
 * An upgrade's proof, checked like a request's: `undefined` when it carries none, the sending
 * node when it carries a valid one; a bad one is refused here (and false returned).
 */
export function upgradeProof(
  forwarding: Forwarding | undefined,
  req: IncomingMessage,
  socket: Duplex,
): string | undefined | false {
  const header = req.headers[PROOF_HEADER];
  if (header === undefined) return undefined;
  const from =
    forwarding && typeof header === "string"
      ? forwarding.proof.verify(header, req.method ?? "GET", req.url ?? "/")
      : undefined;
  if (from) return from;
  rejectUpgrade(socket, badProof());
  return false;
}

/**
 * Sends an upgrade that carries a session token this node does not hold to the node that holds
 * it; `notHere` answers when no other node does (or the request was forwarded already).
 */
export function upgradeElsewhere(
  forwarding: Forwarding | undefined,
  fromNode: string | undefined,
  up: { req: IncomingMessage; socket: Duplex; head: Buffer },
  token: string,
  uses: readonly TokenUse[],
  notHere: () => void,
): void {
  if (!forwarding || fromNode) return notHere();
  forwarding.router.forToken(token, uses).then(
    (route) =>
      route.here
        ? notHere()
        : forwardUpgrade(up.req, up.socket, up.head, route.url, forwarding.proof),
    () => notHere(),
  );
}

/** Sends a page request for a token held by another node there; false when none holds it. */
export async function pageElsewhere(
  forwarding: Forwarding | undefined,
  req: FastifyRequest,
  reply: FastifyReply,
  token: string,
  uses: readonly TokenUse[],
): Promise<boolean> {
  if (!forwarding || req.fromNode) return false;
  const route = await forwarding.router.forToken(token, uses);
  if (route.here) return false;
  sendTo(route.url, req, reply, forwarding.proof);
  return true;
}

/**
 * Sends the request, as it came and with this node's proof, to the node at `base`;
 * `unanswered` runs when that node cannot be reached.
 */
function sendTo(
  base: string,
  req: FastifyRequest,
  reply: FastifyReply,
  proof: NodeProof,
  unanswered?: () => unknown,
): void {
  reply.from(base + req.url, {
    rewriteRequestHeaders: (_req, headers) => ({
      ...headers,
      // The owner builds URLs (cdpUrl, live view) on the host the client reached.
      ...(req.headers.host ? { host: req.headers.host } : {}),
      [PROOF_HEADER]: proof.sign(req.method, req.url),
    }),
    onError: (r) => {
      unanswered?.();
      void r.send(ownerUnreachable());
    },
  });
}
