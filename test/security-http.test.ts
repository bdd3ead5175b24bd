import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { isPrivateAddress } from "../src/network/private-address.js";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { scrapeId, stop } from "./helpers/interact.js";
import { postJson, startTestServer, tempDataDir, type TestServer } from "./helpers/server.js";
import { parseRaw, rawRequest } from "./helpers/raw-http.js";
import { canMount, mountTmpfs, unmount } from "./helpers/tmpfs.js";

/** POSTs JSON with the headers given (Host included, which fetch will not let us set). */
function postWithHeaders(
  serverUrl: string,
  pathname: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(serverUrl);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: hostname,
        port,
        path: pathname,
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
          ...headers,
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

const FORWARDED = { "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" };

describe("forwarded headers", () => {
  let site: FixtureSite;
  /**
   * One data directory for the servers below: after the first, their scrapes are cache hits and
   * start no scrape browser. Each answer's URLs are built for its own request all the same.
   */
  let shared: string;
  beforeAll(async () => {
    site = await startFixtureSite();
    shared = tempDataDir();
  });
  afterAll(() => site?.close());

  /** Scrapes with a screenshot and opens a session, both carrying Host and forwarded headers. */
  async function urlsSeen(server: TestServer) {
    const headers = { host: "real.example:8080", ...FORWARDED };
    const scrape = await postWithHeaders(
      server.url,
      "/v2/scrape",
      { url: `${site.url}/`, formats: ["screenshot"] },
      headers,
    );
    expect(scrape.status, JSON.stringify(scrape.body)).toBe(200);
    const id = scrape.body.data.metadata.scrapeId;
    const session = await postWithHeaders(
      server.url,
      `/v2/scrape/${id}/interact`,
      { code: "1" },
      headers,
    );
    expect((await stop(server.url, id)).status).toBe(200);
    expect(session.status, JSON.stringify(session.body)).toBe(200);
    return {
      screenshot: scrape.body.data.screenshot as string,
      cdpUrl: session.body.cdpUrl as string,
      liveViewUrl: session.body.liveViewUrl as string,
      interactiveLiveViewUrl: session.body.interactiveLiveViewUrl as string,
    };
  }

  it("are ignored by default: URLs use the request's own Host", async () => {
    const server = await startTestServer({ DATA_DIR: shared });
    try {
      const urls = await urlsSeen(server);
      expect(urls.screenshot).toMatch(/^http:\/\/real\.example:8080\/v2\/files\//);
      expect(urls.cdpUrl).toMatch(/^ws:\/\/real\.example:8080\/cdp\//);
      expect(urls.liveViewUrl).toMatch(/^http:\/\/real\.example:8080\/live\//);
      expect(urls.interactiveLiveViewUrl).toMatch(/^http:\/\/real\.example:8080\/live\//);
      expect(JSON.stringify(urls)).not.toContain("evil.example");
    } finally {
      await server.close();
    }
  });

  it("are followed with TRUST_PROXY=true", async () => {
    const server = await startTestServer({ DATA_DIR: shared, TRUST_PROXY: "true" });
    try {
      const urls = await urlsSeen(server);
      expect(urls.screenshot).toMatch(/^https:\/\/evil\.example\/v2\/files\//);
      expect(urls.cdpUrl).toMatch(/^wss:\/\/evil\.example\/cdp\//);
      expect(urls.liveViewUrl).toMatch(/^https:\/\/evil\.example\/live\//);
      expect(urls.interactiveLiveViewUrl).toMatch(/^https:\/\/evil\.example\/live\//);
    } finally {
      await server.close();
    }
  });

  it("lose to PUBLIC_URL, trusted or not", async () => {
    // src/urls/public-urls.test.ts holds PUBLIC_URL against an untrusted request too.
    const server = await startTestServer({
      DATA_DIR: shared,
      TRUST_PROXY: "true",
      PUBLIC_URL: "https://browser.example.com/",
    });
    try {
      const urls = await urlsSeen(server);
      for (const url of Object.values(urls))
        expect(url).toMatch(/^(http|ws)s:\/\/browser\.example\.com\//);
      // wss:// for the CDP URL behind TLS, and one slash between PUBLIC_URL and each path.
      expect(urls.cdpUrl).toMatch(/^wss:\/\/browser\.example\.com\/cdp\/[A-Za-z0-9_-]{43}$/);
      expect(urls.liveViewUrl).toMatch(/^https:\/\/browser\.example\.com\/live\/[^/]+$/);
      expect(urls.interactiveLiveViewUrl).toMatch(/^https:\/\/browser\.example\.com\/live\/[^/]+$/);
      expect(urls.screenshot).toMatch(/^https:\/\/browser\.example\.com\/v2\/files\/[^/]+$/);
    } finally {
      await server.close();
    }
  });
});

describe("scrape headers with control characters", () => {
  let server: TestServer;
  let site: FixtureSite;
  beforeAll(async () => {
    [server, site] = await Promise.all([startTestServer(), startFixtureSite()]);
  });
  afterAll(async () => {
    await server?.close();
    await site?.close();
  });

  it("are a 400 naming the header, and never reach the browser", async () => {
    const cases: [Record<string, string>, string][] = [
      [{ "X-A": "a\r\nb" }, "X-A"],
      [{ "X-Cr": "a\rb" }, "X-Cr"],
      [{ "X-Lf": "a\nInjected: yes" }, "X-Lf"],
      [{ "X-Nul": "a\u0000b" }, "X-Nul"],
      [{ "X-Ctl": "a\u0001b" }, "X-Ctl"],
      [{ "X-Del": "a\u007fb" }, "X-Del"],
      [{ "X Space": "v" }, "X Space"],
      [{ "X-A\r\nB": "v" }, "X-A\r\nB"],
      [{ "X:Colon": "v" }, "X:Colon"],
      [{ "": "v" }, '""'],
    ];
    const before = site.requests.length;
    for (const [headers, name] of cases) {
      const res = await postJson(`${server.url}/v2/scrape`, {
        url: `${site.url}/headers`,
        headers,
      });
      const label = JSON.stringify(headers);
      expect(res.status, label).toBe(400);
      expect(res.body, label).toMatchObject({ success: false, code: "BAD_REQUEST" });
      expect(res.body.error, label).toContain(name);
      expect(res.body.details, label).toEqual([
        { path: `headers.${name === '""' ? "" : name}`, message: expect.any(String) },
      ]);
    }
    expect(site.requests.length).toBe(before);
  });

  it("still accepts tabs and non-ASCII text in values", async () => {
    const res = await postJson(`${server.url}/v2/scrape`, {
      url: `${site.url}/headers`,
      headers: { "X-Tab": "a\tb", "X-Text": "café" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.markdown).toContain("x-tab");
  });
});

describe("malformed percent-encoding in a path", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  const PATHS = [
    "/cdp/%E0%A4%A",
    "/live/%E0%A4%A",
    "/live/%E0%A4%A/ws",
    "/v2/files/%E0%A4%A",
    "/v2/scrape/%E0%A4%A/interact",
    "/%E0%A4%A",
    "/cdp/%ZZ",
  ];

  it("is a 400 in the standard error shape for plain requests", async () => {
    for (const p of PATHS) {
      const res = await fetch(`${server.url}${p}`);
      expect(res.status, p).toBe(400);
      expect(await res.json(), p).toEqual({
        success: false,
        code: "BAD_REQUEST",
        error: expect.stringContaining("percent-encoding"),
      });
    }
    const del = await fetch(`${server.url}/v2/scrape/%E0%A4%A/interact`, { method: "DELETE" });
    expect(del.status).toBe(400);
  });

  it("is a 400 in the standard error shape for WebSocket upgrades", async () => {
    for (const p of PATHS) {
      const raw = await rawRequest(
        server.url,
        `GET ${p} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
      const res = parseRaw(raw);
      expect(res.status, p).toBe(400);
      expect(res.body, p).toEqual({
        success: false,
        code: "BAD_REQUEST",
        error: expect.stringContaining("percent-encoding"),
      });
    }
  });

  it("is a 400 for an upgrade whose URL does not parse, and the server carries on", async () => {
    const raw = await rawRequest(
      server.url,
      `GET http://[ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    expect(parseRaw(raw)).toEqual({
      status: 400,
      body: { success: false, code: "BAD_REQUEST", error: expect.any(String) },
    });
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it("leaves well-formed unknown tokens a 404", async () => {
    const raw = await rawRequest(
      server.url,
      `GET /cdp/%41bc HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    expect(parseRaw(raw).status).toBe(404);
    expect((await fetch(`${server.url}/v2/files/%41bc.png`)).status).toBe(404);
  });
});

/** This machine's interface addresses, as os.networkInterfaces() lists them. */
function interfaceAddresses(): { address: string; internal: boolean; family: string }[] {
  return Object.values(os.networkInterfaces()).flatMap((list) => list ?? []);
}

/** Runs `ip` and says whether it worked (we may not be allowed to change interfaces). */
function ip(...args: string[]): boolean {
  try {
    execFileSync("ip", args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const canAddAddress = process.getuid?.() === 0 && ip("-V");
const TEST_ADDRESS = "203.0.113.77"; // TEST-NET-3: public as far as fixed ranges go

describe("this machine's own addresses", () => {
  it("are private, whatever range they are in", () => {
    for (const { address } of interfaceAddresses()) {
      expect(isPrivateAddress(address), address).toBe(true);
    }
    expect(isPrivateAddress("8.8.8.8")).toBe(false);
  });

  it.skipIf(!canAddAddress)(
    "are picked up when an interface gains or loses one (needs root and the ip tool)",
    () => {
      // The list of interfaces is re-read every few seconds: the clock is moved on instead of
      // waiting for it. Only Date is faked; the interfaces themselves really change. The list
      // read last (the real one, test address gone) then serves this process a few minutes
      // longer before the next re-read: later files in the same fork see the real list, and
      // none of them changes an interface.
      vi.useFakeTimers({ toFake: ["Date"] });
      const later = () => vi.setSystemTime(Date.now() + 60_000);
      try {
        later();
        expect(isPrivateAddress(TEST_ADDRESS)).toBe(false);
        expect(ip("addr", "add", `${TEST_ADDRESS}/32`, "dev", "lo")).toBe(true);
        try {
          later();
          expect(isPrivateAddress(TEST_ADDRESS)).toBe(true);
          expect(isPrivateAddress(`::ffff:${TEST_ADDRESS}`)).toBe(true);
        } finally {
          ip("addr", "del", `${TEST_ADDRESS}/32`, "dev", "lo");
        }
        later();
        expect(isPrivateAddress(TEST_ADDRESS)).toBe(false);
      } finally {
        vi.useRealTimers();
      }
    },
  );

  const external = interfaceAddresses().find((a) => !a.internal && a.family === "IPv4");
  it.skipIf(!external)(
    "cannot be scraped with ALLOW_PRIVATE_NETWORK=false (needs a non-loopback IPv4 address)",
    async () => {
      const hits: string[] = [];
      const local = http.createServer((req, res) => {
        hits.push(req.url ?? "");
        res.end("<html><body>internal service</body></html>");
      });
      await new Promise<void>((r) => local.listen(0, external!.address, r));
      const { port } = local.address() as net.AddressInfo;
      const server = await startTestServer({ ALLOW_PRIVATE_NETWORK: "false" });
      try {
        const res = await postJson(`${server.url}/v2/scrape`, {
          url: `http://${external!.address}:${port}/`,
        });
        expect(res.status, JSON.stringify(res.body)).toBe(403);
        expect(res.body.code).toBe("PRIVATE_ADDRESS_BLOCKED");
        expect(hits).toEqual([]);
      } finally {
        await server.close();
        await new Promise<void>((r) => local.close(() => r()));
      }
    },
  );
});

describe("health", () => {
  it("is ok with room on the disk and a database that answers", async () => {
    const server = await startTestServer();
    try {
      const res = await fetch(`${server.url}/health`);
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body).toMatchObject({
        success: true,
        status: "ok",
        activeSessions: 0,
        maxSessions: expect.any(Number),
        sandbox: expect.any(String),
        checks: {
          disk: { ok: true, freeBytes: expect.any(Number), minFreeBytes: 256 * 1024 * 1024 },
          database: { ok: true },
        },
      });
      expect(body.checks.disk.freeBytes).toBeGreaterThan(body.checks.disk.minFreeBytes);
    } finally {
      await server.close();
    }
  });

  it.skipIf(!canMount)(
    "is a 503 on a full disk, and a scrape that needs the disk says it is full (needs root to mount a tmpfs)",
    async () => {
      const mountPoint = mountTmpfs("48m");
      let server: TestServer | undefined;
      let site: FixtureSite | undefined;
      const filler = path.join(mountPoint, "filler");
      try {
        server = await startTestServer({
          DATA_DIR: path.join(mountPoint, "data"),
          MIN_FREE_DISK_MB: "8",
        });
        site = await startFixtureSite();
        expect((await fetch(`${server.url}/health`)).status).toBe(200);
        // A first scrape starts the browser while there is room for its profile.
        await scrapeId(server.url, { url: `${site.url}/`, formats: ["screenshot"] });

        const fd = fs.openSync(filler, "w");
        const chunk = Buffer.alloc(256 * 1024, 1);
        try {
          for (;;) fs.writeSync(fd, chunk);
        } catch (err) {
          expect((err as NodeJS.ErrnoException).code).toBe("ENOSPC");
        } finally {
          fs.closeSync(fd);
        }

        const res = await fetch(`${server.url}/health`);
        expect(res.status).toBe(503);
        const body = await res.json();
        expect(body).toMatchObject({
          success: false,
          status: "degraded",
          activeSessions: 0,
          maxSessions: expect.any(Number),
          sandbox: expect.any(String),
          checks: {
            disk: { ok: false, freeBytes: expect.any(Number), minFreeBytes: 8 * 1024 * 1024 },
            // A write may or may not still fit; what matters is that the disk is reported.
            database: expect.any(Object),
          },
        });
        expect(body.checks.disk.freeBytes).toBeLessThan(8 * 1024 * 1024);

        const scrape = await postJson(`${server.url}/v2/scrape`, {
          url: `${site.url}/`,
          formats: ["screenshot"],
          maxAge: 0,
        });
        expect(scrape.status, JSON.stringify(scrape.body)).toBe(507);
        expect(scrape.body).toEqual({
          success: false,
          code: "DISK_FULL",
          error: expect.stringContaining("disk is full"),
        });

        // Without a screenshot, it is the database that finds no room (SQLITE_FULL).
        const plain = await postJson(`${server.url}/v2/scrape`, { url: `${site.url}/`, maxAge: 0 });
        expect(plain.status, JSON.stringify(plain.body)).toBe(507);
        expect(plain.body.code).toBe("DISK_FULL");

        fs.rmSync(filler);
        expect((await fetch(`${server.url}/health`)).status).toBe(200);
      } finally {
        await server?.close();
        await site?.close();
        unmount(mountPoint);
      }
    },
  );
});
