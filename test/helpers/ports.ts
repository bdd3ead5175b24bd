import fs from "node:fs";
import net from "node:net";
import os from "node:os";

/**
 * TCP ports something on this machine listens on, from /proc/net/tcp and tcp6: what an attacker
 * inside a session would find with a port scan, without spending minutes on one.
 */
export function listeningPorts(): number[] {
  const ports = new Set<number>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // st 0A is LISTEN; local_address is HEXIP:HEXPORT.
      if (cols[3] !== "0A" || !cols[1]) continue;
      ports.add(parseInt(cols[1].split(":")[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/** This machine's own non-loopback IPv4 addresses (its LAN side, as another host would see it). */
export function hostAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((i) => i && i.family === "IPv4" && !i.internal)
    .map((i) => i!.address);
}

/** A loopback port nothing listens on right now; start() retries if another process takes it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
