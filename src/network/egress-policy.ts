import type { BlockReason } from "./egress-proxy.js";
import { isPrivateAddress, isThisMachine } from "./private-address.js";

/**
 * The ports this server listens on (its API, the egress proxy when it has a TCP port). On any
 * address of this machine they are off limits to every browser, whatever ALLOW_PRIVATE_NETWORK
 * says: a page that can call the server's own API, or its proxy, acts with the server's reach.
 */
export class OwnEndpoints {
  private readonly ports = new Set<number>();

  add(port: number): void {
    this.ports.add(port);
  }

  /** True for one of our ports on loopback, the unspecified address or an interface of this machine. */
  includes(address: string, port: number): boolean {
    return this.ports.has(port) && isThisMachine(address);
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
