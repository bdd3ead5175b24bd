import { isOurDebuggingPort } from "../browser/chromium-process.js";
import { EgressProxy } from "../network/egress-proxy.js";
import { isLoopbackAddress, isPrivateAddress } from "../network/private-address.js";

/**
 * Starts the proxy every session browser sends its traffic through. It keeps user code away
 * from the debugging ports of our browsers (which would hand over another session), and from
 * private networks when ALLOW_PRIVATE_NETWORK is off (which would let a session probe the
 * server's own network).
 */
export function startSessionEgress(
  allowPrivateNetwork: boolean,
  isPrivate: (address: string) => boolean = isPrivateAddress,
): Promise<EgressProxy> {
  return EgressProxy.start({
    isBlocked: (address, port) =>
      (isLoopbackAddress(address) && isOurDebuggingPort(port)) ||
      (!allowPrivateNetwork && isPrivate(address)),
  });
}

/** Chromium flags that send all of a browser's traffic, loopback included, through the proxy. */
export function egressFlags(proxyUrl: string): string[] {
  // Chromium skips the proxy for loopback unless told otherwise with <-loopback>.
  return [`--proxy-server=${proxyUrl}`, "--proxy-bypass-list=<-loopback>"];
}
