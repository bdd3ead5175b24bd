import { describe, expect, it } from "vitest";
import { AppError } from "../errors/app-error.js";
import { egressError, hostOf, navigationError, netErrorName } from "./navigation-errors.js";

const URL_ = "https://shop.example.com:8443/cart?x=1";

/** An error as Playwright's page.goto throws it for a failed load. */
const gotoError = (name: string) =>
  new Error(`page.goto: net::${name} at ${URL_}\nCall log:\n  - navigating to "${URL_}"`);

describe("navigationError", () => {
  it("names a DNS failure with the host, without its port", () => {
    for (const name of ["ERR_NAME_NOT_RESOLVED", "ERR_NAME_RESOLUTION_FAILED"]) {
      const err = navigationError(gotoError(name), URL_);
      expect(err.code, name).toBe("SCRAPE_DNS_RESOLUTION_ERROR");
      expect(err.message, name).toContain("DNS resolution failed for shop.example.com:");
      expect(err.message, name).toContain(`net::${name}`);
    }
  });

  it("says how a connection failed, naming host and port", () => {
    const cases: [string, string][] = [
      ["ERR_CONNECTION_REFUSED", "refused"],
      ["ERR_CONNECTION_RESET", "reset"],
      ["ERR_CONNECTION_CLOSED", "closed the connection"],
      ["ERR_CONNECTION_TIMED_OUT", "timed out"],
      ["ERR_TIMED_OUT", "timed out"],
      ["ERR_ADDRESS_UNREACHABLE", "unreachable"],
      ["ERR_EMPTY_RESPONSE", "empty response"],
      ["ERR_INVALID_HTTP_RESPONSE", "invalid HTTP response"],
    ];
    for (const [name, words] of cases) {
      const err = navigationError(gotoError(name), URL_);
      expect(err.code, name).toBe("SCRAPE_CONNECTION_FAILED");
      expect(err.message, name).toContain("Could not connect to shop.example.com:8443");
      expect(err.message, name).toContain(words);
    }
  });

  it("calls certificate and TLS failures TLS errors and points at skipTlsVerification", () => {
    for (const name of [
      "ERR_CERT_AUTHORITY_INVALID",
      "ERR_CERT_DATE_INVALID",
      "ERR_SSL_PROTOCOL_ERROR",
      "ERR_BAD_SSL_CLIENT_AUTH_CERT",
      "ERR_TLS13_DOWNGRADE_DETECTED",
    ]) {
      const err = navigationError(gotoError(name), URL_);
      expect(err.code, name).toBe("SCRAPE_SSL_ERROR");
      expect(err.message, name).toContain("shop.example.com:8443");
      expect(err.message, name).toContain("skipTlsVerification: true");
    }
  });

  it("explains downloads, blocked ads and ports browsers refuse", () => {
    const download = navigationError(new Error("page.goto: Download is starting"), URL_);
    expect(download.code).toBe("SCRAPE_FAILED");
    expect(download.message).toContain("is a file download");

    const ad = navigationError(gotoError("ERR_BLOCKED_BY_CLIENT"), URL_);
    expect(ad.code).toBe("SCRAPE_FAILED");
    expect(ad.message).toContain("blockAds: false");

    const port = navigationError(gotoError("ERR_UNSAFE_PORT"), "http://example.com:6000/");
    expect(port.code).toBe("BAD_REQUEST");
    expect(port.message).toContain("http://example.com:6000/");
  });

  it("falls back to naming the host, and the net:: error when there is one", () => {
    const other = navigationError(gotoError("ERR_TOO_MANY_REDIRECTS"), URL_);
    expect(other.code).toBe("SCRAPE_FAILED");
    expect(other.message).toBe(
      "Loading shop.example.com:8443 failed (net::ERR_TOO_MANY_REDIRECTS).",
    );
    const none = navigationError(new Error("Target closed"), URL_);
    expect(none).toMatchObject({
      code: "SCRAPE_FAILED",
      message: "Loading shop.example.com:8443 failed.",
    });
    expect(navigationError("not even an Error", URL_).code).toBe("SCRAPE_FAILED");
  });

  it("never echoes the rest of the browser's message", () => {
    const err = navigationError(gotoError("ERR_CONNECTION_REFUSED"), URL_);
    expect(err.message).not.toContain("Call log");
    expect(err.message).not.toContain("page.goto");
  });

  it("passes an AppError through unchanged", () => {
    const own = new AppError("SCRAPE_TIMEOUT", "timed out");
    expect(navigationError(own, URL_)).toBe(own);
  });
});

describe("egressError", () => {
  it("refuses this server itself, and private addresses, as PRIVATE_ADDRESS_BLOCKED", () => {
    const self = egressError(
      {
        kind: "blocked",
        host: "localhost",
        address: "127.0.0.1",
        port: 3002,
        reason: "this-server",
      },
      "http://localhost:3002/health",
    );
    expect(self.code).toBe("PRIVATE_ADDRESS_BLOCKED");
    expect(self.message).toContain("localhost:3002 (127.0.0.1) is this server itself");

    const lan = egressError(
      { kind: "blocked", host: "10.0.0.5", address: "10.0.0.5", port: 80, reason: "private" },
      "http://10.0.0.5/",
    );
    expect(lan.code).toBe("PRIVATE_ADDRESS_BLOCKED");
    expect(lan.message).toContain("10.0.0.5:80 is a loopback, private or link-local address");
    expect(lan.message).toContain("ALLOW_PRIVATE_NETWORK");
  });

  it("maps DNS, refused and unreachable failures to the scrape's error codes", () => {
    const dns = egressError({ kind: "dns", host: "nope.invalid" }, "http://nope.invalid/");
    expect(dns.code).toBe("SCRAPE_DNS_RESOLUTION_ERROR");
    expect(dns.message).toContain("nope.invalid");

    const refused = egressError(
      { kind: "refused", host: "example.com", address: "93.184.215.14", port: 81 },
      "http://example.com:81/",
    );
    expect(refused.code).toBe("SCRAPE_CONNECTION_FAILED");
    expect(refused.message).toContain("example.com:81 (93.184.215.14)");
    expect(refused.message).toContain("refused");

    const unreachable = egressError({ kind: "unreachable", host: "example.com" }, "http://x/");
    expect(unreachable.code).toBe("SCRAPE_CONNECTION_FAILED");
    expect(unreachable.message).toContain("example.com: the address is unreachable");
  });
});

describe("hostOf and netErrorName", () => {
  it("read host[:port] from a URL, and the net:: error from a message", () => {
    expect(hostOf(URL_)).toBe("shop.example.com:8443");
    expect(hostOf("https://example.com/")).toBe("example.com");
    expect(hostOf("not a url")).toBe("not a url");
    expect(netErrorName(gotoError("ERR_CONNECTION_RESET"))).toBe("ERR_CONNECTION_RESET");
    expect(netErrorName("net::ERR_FAILED at x")).toBe("ERR_FAILED");
    expect(netErrorName(new Error("no code here"))).toBeUndefined();
  });
});
