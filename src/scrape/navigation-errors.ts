import { AppError } from "../errors/app-error.js";
import type { EgressFailure } from "../network/egress-proxy.js";

const CONNECTION_ERRORS: Record<string, string> = {
  ERR_CONNECTION_REFUSED: "the connection was refused",
  ERR_CONNECTION_RESET: "the connection was reset",
  ERR_CONNECTION_CLOSED: "the server closed the connection",
  ERR_CONNECTION_FAILED: "the connection failed",
  ERR_CONNECTION_TIMED_OUT: "the connection timed out",
  ERR_TIMED_OUT: "the connection timed out",
  ERR_ADDRESS_UNREACHABLE: "the address is unreachable",
  ERR_ADDRESS_INVALID: "the address is invalid",
  ERR_EMPTY_RESPONSE: "the server sent an empty response",
  ERR_INTERNET_DISCONNECTED: "this server has no network connection",
  ERR_NETWORK_CHANGED: "the network changed during the request",
  ERR_INVALID_HTTP_RESPONSE: "the server sent an invalid HTTP response",
};

/** host[:port] of a URL, for messages. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** The net::ERR_* name inside a Playwright error message, if any. */
export function netErrorName(err: unknown): string | undefined {
  const message = err instanceof Error ? err.message : String(err);
  return /net::(ERR_[A-Z0-9_]+)/.exec(message)?.[1];
}

/**
 * Maps a failed page load to an error naming the cause and the host. Timeouts are the caller's
 * business (it knows the budget and the stage).
 */
export function navigationError(err: unknown, url: string): AppError {
  if (err instanceof AppError) return err;
  const host = hostOf(url);
  const name = netErrorName(err);
  const message = err instanceof Error ? err.message : "";
  if (name === "ERR_NAME_NOT_RESOLVED" || name === "ERR_NAME_RESOLUTION_FAILED") {
    return new AppError(
      "SCRAPE_DNS_RESOLUTION_ERROR",
      `DNS resolution failed for ${hostOf(url).replace(/:\d+$/, "")}: the name does not exist ` +
        `or no DNS server answered (net::${name}).`,
    );
  }
  if (name && CONNECTION_ERRORS[name]) {
    return new AppError(
      "SCRAPE_CONNECTION_FAILED",
      `Could not connect to ${host}: ${CONNECTION_ERRORS[name]} (net::${name}).`,
    );
  }
  if (name && /^ERR_(CERT_|SSL_|BAD_SSL|TLS)/.test(name)) {
    return new AppError(
      "SCRAPE_SSL_ERROR",
      `TLS error talking to ${host} (net::${name}). If the certificate is the problem, ` +
        `skipTlsVerification: true accepts it.`,
    );
  }
  if (/Download is starting/i.test(message)) {
    return new AppError(
      "SCRAPE_FAILED",
      `${url} is a file download, not a web page; only pages a browser displays can be scraped.`,
    );
  }
  if (name === "ERR_BLOCKED_BY_CLIENT") {
    return new AppError(
      "SCRAPE_FAILED",
      `${url} is on the ad and tracker block list; scrape it with blockAds: false.`,
    );
  }
  if (name === "ERR_UNSAFE_PORT") {
    return new AppError("BAD_REQUEST", `Browsers refuse to connect to the port in ${url}.`);
  }
  if (name) {
    return new AppError("SCRAPE_FAILED", `Loading ${host} failed (net::${name}).`);
  }
  return new AppError("SCRAPE_FAILED", `Loading ${host} failed.`);
}

/** The error for a page load the egress proxy refused or could not complete. */
export function egressError(f: EgressFailure, url: string): AppError {
  const hostPort = f.port ? `${f.host}:${f.port}` : f.host;
  const where = f.address && f.address !== f.host ? `${hostPort} (${f.address})` : hostPort;
  switch (f.kind) {
    case "blocked":
      if (f.reason === "this-server") {
        return new AppError(
          "PRIVATE_ADDRESS_BLOCKED",
          `Refused to load ${url}: ${where} is this server itself, which browsers may never reach.`,
        );
      }
      return new AppError(
        "PRIVATE_ADDRESS_BLOCKED",
        `Refused to load ${url}: ${where} is a loopback, private or link-local address, and this ` +
          `server does not scrape private networks (ALLOW_PRIVATE_NETWORK is off).`,
      );
    case "dns":
      return new AppError(
        "SCRAPE_DNS_RESOLUTION_ERROR",
        `DNS resolution failed for ${f.host}: the name does not exist or no DNS server answered.`,
      );
    case "refused":
      return new AppError(
        "SCRAPE_CONNECTION_FAILED",
        `Could not connect to ${where}: the connection was refused.`,
      );
    default:
      return new AppError(
        "SCRAPE_CONNECTION_FAILED",
        `Could not connect to ${where}: the address is unreachable.`,
      );
  }
}
