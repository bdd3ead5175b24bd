import fs from "node:fs";
import net from "node:net";

/** A unix-socket server that forwards raw bytes to one browser's debugging port. */
export interface CdpBridge {
  readonly socketPath: string;
  /** Stops listening, cuts open connections and removes the socket file. Safe to call twice. */
  close(): Promise<void>;
}

/** More than Playwright ever opens; stops user code from exhausting the server's descriptors. */
const MAX_CONNECTIONS = 16;
const CONNECT_TIMEOUT_MS = 5_000;
/** sockaddr_un holds 108 bytes with the terminating NUL; longer paths fail obscurely. */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * Listens on `socketPath` and pipes each connection to the host:port of `browserWsEndpoint`
 * (the browser's loopback debugging port). A sandboxed worker has no network; this socket,
 * bind-mounted into its sandbox, is its only way out, and it leads to its own browser alone.
 */
export async function startCdpBridge(
  socketPath: string,
  browserWsEndpoint: string,
): Promise<CdpBridge> {
  const target = new URL(browserWsEndpoint);
  const host = target.hostname.replace(/^\[|\]$/g, "");
  const port = Number(target.port);
  if (!host || !Number.isInteger(port) || port <= 0) {
    throw new Error(`CDP bridge: no host:port in ${browserWsEndpoint}`);
  }

  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(
      `CDP bridge: socket path longer than ${MAX_SOCKET_PATH_BYTES} bytes: ${socketPath}`,
    );
  }

  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (open.size >= MAX_CONNECTIONS) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host, port, timeout: CONNECT_TIMEOUT_MS });
    open.add(client);
    open.add(upstream);
    const finish = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    // The connect timeout only guards the connect; an idle CDP connection is normal.
    upstream.once("connect", () => upstream.setTimeout(0));
    upstream.once("timeout", finish);
    client.on("error", finish).on("close", finish);
    upstream.on("error", finish).on("close", finish);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.maxConnections = MAX_CONNECTIONS;

  // A socket file left by a crashed run would make listen fail with EADDRINUSE.
  fs.rmSync(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.removeListener("error", reject);
      resolve();
    });
  });
  // Only this process and the worker (which gets the file's owner changed to it) may connect.
  fs.chmodSync(socketPath, 0o600);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      for (const s of open) s.destroy();
      open.clear();
      server.close(() => {
        fs.rmSync(socketPath, { force: true });
        resolve();
      });
    });
    return closing;
  };
  return { socketPath, close };
}
