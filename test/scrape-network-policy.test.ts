import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { SharedBrowser } from "../src/chromium/shared-browser.js";
import { testConfig } from "./helpers/config.js";
import { AppError } from "../src/errors/app-error.js";
import { DiskFileStore } from "../src/files/disk-file-store.js";
import { isPrivateAddress } from "../src/network/private-address.js";
import { scrapeRequestSchema } from "../src/scrape/request.js";
import { ScrapeService } from "../src/scrape/service.js";
import type { Store } from "../src/store/repositories.js";
import { openSqliteStore } from "../src/store/sqlite.js";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { OwnEndpoints } from "../src/network/egress-policy.js";
import { testLauncher } from "./helpers/browsers.js";
import { hostAddresses } from "./helpers/ports.js";
import { tempDataDir } from "./helpers/server.js";

test("private, loopback, link-local and unique-local addresses are recognised, v4 and v6", () => {
  const privateOnes = [
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.1",
    "172.16.5.4",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::1",
    "::",
    "fe80::1",
    "fd12:3456::1",
    "fc00::1",
    "::ffff:127.0.0.1",
    "::ffff:a00:1",
    "64:ff9b::c0a8:101",
    "2002:0a00:0001::1",
    "[::1]",
  ];
  const publicOnes = ["8.8.8.8", "1.1.1.1", "172.32.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"];
  for (const a of privateOnes) expect(isPrivateAddress(a), a).toBe(true);
  for (const a of publicOnes) expect(isPrivateAddress(a), a).toBe(false);
});

test("this server's own ports are off limits on every address of this machine, in any form", () => {
  const own = new OwnEndpoints();
  own.add(3002);
  const lan = hostAddresses()[0];
  const mine = ["127.0.0.1", "127.9.9.9", "0.0.0.0", "::1", "[::1]", "::ffff:127.0.0.1"];
  if (lan) mine.push(lan, `::ffff:${lan}`, `[::ffff:${lan}]`);
  for (const a of mine) expect(own.includes(a, 3002), a).toBe(true);
  for (const a of mine) expect(own.includes(a, 3003), `${a}:3003`).toBe(false);
  expect(own.includes("8.8.8.8", 3002)).toBe(false);
});

/**
 * On one machine every address is private, so this suite narrows "private" to 127.0.0.2 and
 * serves a secret there: the fixture site on 127.0.0.1 plays the public internet.
 */
let site: FixtureSite;
let secret: http.Server;
let secretUrl: string;
const secretHits: string[] = [];
let store: Store;
let browser: SharedBrowser;
let service: ScrapeService;

beforeAll(async () => {
  site = await startFixtureSite();
  secret = http.createServer((req, res) => {
    secretHits.push(req.url ?? "");
    res.end("secret");
  });
  await new Promise<void>((r) => secret.listen(0, "127.0.0.2", r));
  secretUrl = `http://127.0.0.2:${(secret.address() as AddressInfo).port}`;
  const dataDir = tempDataDir();
  const config = testConfig({ DATA_DIR: dataDir, ALLOW_PRIVATE_NETWORK: "false" });
  store = await openSqliteStore(dataDir);
  browser = new SharedBrowser(
    testLauncher({ isBlocked: (address) => (address === "127.0.0.2" ? "private" : undefined) }),
  );
  service = new ScrapeService({ config, store, files: new DiskFileStore(dataDir), browser });
});
afterAll(async () => {
  await browser?.close();
  await store?.close();
  await site?.close();
  await new Promise<void>((r) => (secret ? secret.close(() => r()) : r()));
});

const scrape = (body: Record<string, unknown>) =>
  service.scrape("team", scrapeRequestSchema.parse(body), {
    signal: new AbortController().signal,
    baseUrl: "http://scrape.test",
  });

test("allowed sites load through the checking proxy, over HTTP and HTTPS", async () => {
  const plain = await scrape({ url: `${site.url}/meta`, formats: ["markdown", "links"] });
  expect(plain.markdown).toContain("Meta body");
  const secure = await scrape({ url: `${site.httpsUrl}/meta` });
  expect(secure.markdown).toContain("Meta body");
});

test("a subresource on a blocked address is never requested", async () => {
  const doc = await scrape({ url: `${site.url}/embed?src=${secretUrl}/pixel.png` });
  expect(doc.markdown).toContain("Embedding page");
  expect(secretHits).toEqual([]);
});

test("a redirect to a blocked address is refused with PRIVATE_ADDRESS_BLOCKED", async () => {
  for (const start of [site.url, site.httpsUrl]) {
    const target = start.startsWith("https") ? secretUrl.replace("http:", "https:") : secretUrl;
    const err = await scrape({ url: `${start}/redirect-to?url=${target}/admin` }).catch((e) => e);
    expect(err, start).toBeInstanceOf(AppError);
    expect(err.code, start).toBe("PRIVATE_ADDRESS_BLOCKED");
    expect(err.message, start).toContain("127.0.0.2");
  }
  expect(secretHits).toEqual([]);
});

test("without a jail (no working bubblewrap), the browser's traffic still goes through the policy", async () => {
  const unjailed = new SharedBrowser(
    testLauncher({
      jail: false,
      isBlocked: (address) => (address === "127.0.0.2" ? "private" : undefined),
    }),
  );
  const dataDir = tempDataDir();
  const plainStore = await openSqliteStore(dataDir);
  try {
    const plain = new ScrapeService({
      config: testConfig({ DATA_DIR: dataDir, ALLOW_PRIVATE_NETWORK: "false" }),
      store: plainStore,
      files: new DiskFileStore(dataDir),
      browser: unjailed,
    });
    const run = (url: string) =>
      plain.scrape("team", scrapeRequestSchema.parse({ url }), {
        signal: new AbortController().signal,
        baseUrl: "http://scrape.test",
      });
    expect((await run(`${site.url}/meta`)).markdown).toContain("Meta body");
    const err = await run(`${site.url}/redirect-to?url=${secretUrl}/admin`).catch((e) => e);
    expect(err.code).toBe("PRIVATE_ADDRESS_BLOCKED");
    expect(secretHits).toEqual([]);
  } finally {
    await unjailed.close();
    await plainStore.close();
  }
});
