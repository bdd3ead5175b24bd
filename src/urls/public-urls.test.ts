import { describe, expect, it } from "vitest";
import { fileUrl, publicBaseUrl, sessionUrls } from "./public-urls.js";

const TOKENS = {
  cdpToken: "c".repeat(43),
  viewToken: "v".repeat(43),
  controlToken: "k".repeat(43),
};

describe("publicBaseUrl", () => {
  it("is what the request says without PUBLIC_URL", () => {
    expect(publicBaseUrl(undefined, { protocol: "http", host: "real.example:8080" })).toBe(
      "http://real.example:8080",
    );
    expect(publicBaseUrl(undefined, { protocol: "https", host: "proxy.example.org" })).toBe(
      "https://proxy.example.org",
    );
  });

  it("is PUBLIC_URL whatever the request says, without a trailing slash", () => {
    const req = { protocol: "https", host: "evil.example" };
    expect(publicBaseUrl("https://browser.example.com", req)).toBe("https://browser.example.com");
    expect(publicBaseUrl("https://browser.example.com/", req)).toBe("https://browser.example.com");
    expect(publicBaseUrl("https://browser.example.com/base//", req)).toBe(
      "https://browser.example.com/base",
    );
  });
});

describe("sessionUrls", () => {
  it("speaks wss:// behind TLS and ws:// without, one slash between base and path", () => {
    for (const base of ["https://browser.example.com", "https://browser.example.com/"]) {
      expect(sessionUrls(base, TOKENS)).toEqual({
        cdpUrl: `wss://browser.example.com/cdp/${TOKENS.cdpToken}`,
        liveViewUrl: `https://browser.example.com/live/${TOKENS.viewToken}`,
        interactiveLiveViewUrl: `https://browser.example.com/live/${TOKENS.controlToken}`,
      });
    }
    expect(sessionUrls("http://127.0.0.1:3002", TOKENS).cdpUrl).toBe(
      `ws://127.0.0.1:3002/cdp/${TOKENS.cdpToken}`,
    );
  });
});

describe("fileUrl", () => {
  it("puts a stored file under /v2/files/, and leaves an inline data: URI as it is", () => {
    expect(fileUrl("https://browser.example.com/", "abc.png")).toBe(
      "https://browser.example.com/v2/files/abc.png",
    );
    expect(fileUrl("https://browser.example.com", "data:image/png;base64,AAAA")).toBe(
      "data:image/png;base64,AAAA",
    );
  });
});
