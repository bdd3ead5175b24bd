import net from "node:net";
import os from "node:os";
import type { BlockReason } from "./egress-proxy.js";
import { isLoopbackAddress, isPrivateAddress } from "./private-address.js";

const INTERFACES_TTL_MS = 5_000;

/**
 * The ports this server listens on (its API, the egress proxy when it has a TCP port). On any
 * address of this machine they are off limits to every browser, whatever ALLOW_PRIVATE_NETWORK
 * says: a page that can call the server's own API, or its proxy, acts with the server's reach.
 */
export class OwnEndpoints {
  private readonly ports = new Set<number>();
  private local: { list: net.BlockList; at: number } | undefined;

  add(port: number): void {
    this.ports.add(port);
  }

  /** True for one of our ports on loopback, the unspecified address or an interface of this machine. */
  includes(address: string, port: number): boolean {
    return this.ports.has(port) && this.isThisMachine(address);
  }

  private isThisMachine(address: string): boolean {
    if (isLoopbackAddress(address)) return true;
    const bare = address.replace(/^\[|\]$/g, "").split("%")[0]!;
    const family = net.isIPv4(bare) ? "ipv4" : net.isIPv6(bare) ? "ipv6" : undefined;
    return family !== undefined && this.interfaces().check(bare, family);
  }

  /** Addresses of this machine's interfaces; they change (DHCP, VPNs), so read again now and then. */
  private interfaces(): net.BlockList {
    if (this.local && Date.now() - this.local.at < INTERFACES_TTL_MS) return this.local.list;
    const list = new net.BlockList();
    for (const i of Object.values(os.networkInterfaces()).flat()) {
      if (i) list.addAddress(i.address.split("%")[0]!, i.family === "IPv6" ? "ipv6" : "ipv4");
    }
    this.local = { list, at: Date.now() };
    return list;
  }
}

export interface EgressPolicyOptions {
  allowPrivateNetwork: boolean;
  own: OwnEndpoints;
  /** What counts as private (tests narrow it: on one machine every address is). */
  isPrivate?: (address: string) => boolean;
}

/** The one rule every browser's traffic is held to. */
export function egressPolicy(opts: EgressPolicyOptions) {
  const isPrivate = opts.isPrivate ?? isPrivateAddress;
  return (address: string, port: number): BlockReason | undefined => {
    if (opts.own.includes(address, port)) return "this-server";
    if (!opts.allowPrivateNetwork && isPrivate(address)) return "private";
    return undefined;
  };
}
