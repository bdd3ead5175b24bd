import net from "node:net";
import os from "node:os";

/** Interfaces come and go (DHCP, VPNs, containers), so their list is re-read at most this often. */
const REFRESH_MS = 5_000;

let cached: { list: net.BlockList; readAt: number } | undefined;

/**
 * True when address (a bare IPv4 or IPv6 address, without zone) is assigned to one of this
 * machine's interfaces. A public address on our own interface reaches our own services just as
 * 127.0.0.1 does, so it must be as private as loopback.
 */
export function isOwnAddress(address: string, family: "ipv4" | "ipv6"): boolean {
  const now = Date.now();
  if (!cached || now - cached.readAt >= REFRESH_MS) {
    cached = { list: readInterfaces() ?? cached?.list ?? new net.BlockList(), readAt: now };
  }
  return cached.list.check(address, family);
}

/** This machine's addresses, or undefined when the system would not list them. */
function readInterfaces(): net.BlockList | undefined {
  let interfaces: ReturnType<typeof os.networkInterfaces>;
  try {
    interfaces = os.networkInterfaces();
  } catch {
    return undefined; // keep what we knew rather than forget every address at once
  }
  const list = new net.BlockList();
  for (const entry of Object.values(interfaces).flat()) {
    if (!entry) continue;
    const family = entry.family === "IPv4" ? "ipv4" : "ipv6";
    list.addAddress(entry.address.split("%")[0]!, family);
  }
  return list;
}
