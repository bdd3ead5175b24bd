import net from "node:net";
import { isOwnAddress } from "./local-addresses.js";

/**
 * Addresses a scrape must not reach unless ALLOW_PRIVATE_NETWORK is on: loopback, the LAN,
 * link-local (cloud metadata lives at 169.254.169.254), carrier-grade NAT, multicast and the
 * reserved ranges, in IPv4 and IPv6.
 */
const blocked = new net.BlockList();
for (const [prefix, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  blocked.addSubnet(prefix, bits, "ipv4");
}
for (const [prefix, bits] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
] as const) {
  blocked.addSubnet(prefix, bits, "ipv6");
}

/** Expands an IPv6 address to its eight 16-bit groups, or undefined if it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  if (net.isIPv6(address) === false) return undefined;
  let text = address.split("%")[0]!;
  // A dotted IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail[1]!.split(".").map(Number) as [number, number, number, number];
    text =
      text.slice(0, tail.index) + ((a << 8) | b).toString(16) + ":" + ((c << 8) | d).toString(16);
  }
  const [head, rest] = text.split("::") as [string, string | undefined];
  const left = head ? head.split(":") : [];
  const right = rest ? rest.split(":") : [];
  const fill = rest === undefined ? [] : new Array(8 - left.length - right.length).fill("0");
  return [...left, ...fill, ...right].map((g) => parseInt(g, 16));
}

/**
 * The IPv4 address an IPv6 one carries: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d, which
 * also covers :: and ::1), NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
 */
function embeddedIpv4(groups: number[]): string | undefined {
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  if (zeros(0, 5) && (groups[5] === 0xffff || groups[5] === 0)) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x2002) return v4(groups[1]!, groups[2]!);
  return undefined;
}

/**
 * True for loopback, private, link-local, unique-local and other non-public addresses, and for
 * any address on one of this machine's own interfaces, whatever its range.
 */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, "");
  if (net.isIPv4(bare)) return isPrivateV4(bare);
  const groups = ipv6Groups(bare);
  if (!groups) return true; // not an IP at all: refuse rather than guess
  const v4 = embeddedIpv4(groups);
  if (v4 !== undefined) return isPrivateV4(v4);
  const v6 = bare.split("%")[0]!;
  return blocked.check(v6, "ipv6") || isOwnAddress(v6, "ipv6");
}

function isPrivateV4(address: string): boolean {
  return blocked.check(address, "ipv4") || isOwnAddress(address, "ipv4");
}

/** True for addresses that reach this machine itself: 127.0.0.0/8, ::1, and the unspecified 0.0.0.0 / ::. */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, "").split("%")[0]!;
  if (net.isIPv4(bare)) return bare.startsWith("127.") || bare === "0.0.0.0";
  const groups = ipv6Groups(bare);
  if (!groups) return false;
  // :: and ::1 first: they also read as the IPv4-compatible 0.0.0.0 and 0.0.0.1.
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7]! <= 1) return true;
  const v4 = embeddedIpv4(groups);
  return v4 !== undefined && isLoopbackAddress(v4);
}

/**
 * True for any address that reaches this machine: loopback, the unspecified address, and the
 * addresses of its own interfaces, in IPv4-mapped and other embedding forms too.
 */
export function isThisMachine(address: string): boolean {
  if (isLoopbackAddress(address)) return true;
  const bare = address.replace(/^\[|\]$/g, "").split("%")[0]!;
  if (net.isIPv4(bare)) return isOwnAddress(bare, "ipv4");
  const groups = ipv6Groups(bare);
  if (!groups) return false;
  const v4 = embeddedIpv4(groups);
  return v4 !== undefined ? isOwnAddress(v4, "ipv4") : isOwnAddress(bare, "ipv6");
}
