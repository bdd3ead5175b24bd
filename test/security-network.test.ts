import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { interact, scrapeId } from "./helpers/interact.js";
import { hostAddresses, listeningPorts } from "./helpers/ports.js";
import { closeAll, postJson, startTestServer, type TestServer } from "./helpers/server.js";

// A hostile tenant against the network boundary. Session B plays the victim: its page URL carries
// a token, as real URLs do. Tenant A tries every way to see or close B's page, and to reach what
// the network policy forbids.
const TOKEN = `victim-token-${process.pid}-${Date.now()}`;

/**
 * Node code for interact: tries each URL in a page and reports what it could read. A fresh page
 * per URL, never awaited closing: after two network errors in a row, closing a page of a context
 * with its own proxy can hang in Chromium.
 */
const probeCode = (urls: string[], bypass: boolean) => `
  const ctx = ${bypass ? `await browser.newContext({ proxy: { server: "http://127.0.0.1:9", bypass: "*" } })` : "context"};
  const seen = [];
  for (const url of ${JSON.stringify(urls)}) {
    const p = await ctx.newPage();
    try {
      await p.goto(url, { timeout: 3000 });
      seen.push(url + " => " + (await p.content()).slice(0, 2000));
    } catch (e) {
      seen.push(url + " => " + String(e.message).split("\\n")[0]);
    }
    p.close().catch(() => {});
  }
  ${bypass ? "ctx.close().catch(() => {});" : ""}
  JSON.stringify(seen);`;

/** Every port this machine listens on, as /json/list and /json/close URLs on loopback and the LAN side. */
function debugUrls(ports: number[]): string[] {
  const hosts = ["127.0.0.1", ...hostAddresses()];
  return hosts.flatMap((h) => ports.map((p) => `http://${h}:${p}/json/list`));
}

/** Where the victim's page is; every tab's address too, to say what happened if it is not. */
async function victimIsAlive(
  server: TestServer,
  id: string,
): Promise<{ url: string; tabs: string }> {
  const res = await interact(server.url, id, {
    code: "JSON.stringify({ url: page.url(), tabs: context.pages().map((p) => p.url()) })",
  });
  expect(res.status).toBe(200);
  const { url, tabs } = JSON.parse(res.body.result) as { url: string; tabs: string[] };
  return { url, tabs: `tabs: ${JSON.stringify(tabs)}` };
}

describe("with private networks off limits", () => {
  let server: TestServer;
  let site: FixtureSite;
  let secret: http.Server;
  let secretUrl: string;
  let victim: string;
  let attacker: string;

  beforeAll(async () => {
    site = await startFixtureSite();
    // On one machine every address is private: 127.0.0.2 plays the private network here and the
    // fixture site on 127.0.0.1 plays the public internet.
    secret = http.createServer((_req, res) => res.end("<title>private</title>intranet-secret"));
    await new Promise<void>((r) => secret.listen(0, "127.0.0.2", r));
    secretUrl = `http://127.0.0.2:${(secret.address() as AddressInfo).port}/secret`;
    server = await startTestServer(
      { ALLOW_PRIVATE_NETWORK: "false" },
      { isPrivateAddress: (a) => a === "127.0.0.2" || !a.startsWith("127.0.0.1") },
    );
    victim = await scrapeId(server.url, { url: `${site.url}/?token=${TOKEN}` });
    attacker = await scrapeId(server.url, { url: site.url });
    {
      const v = await victimIsAlive(server, victim);
      expect(v.url, v.tabs).toContain(TOKEN);
    }
  });

  afterAll(async () => {
    await closeAll(server, site);
    secret?.close();
  });

  it("a context with its own proxy settings cannot route around the egress policy", async () => {
    const res = await interact(server.url, attacker, {
      code: probeCode([secretUrl], true),
      timeout: 30,
    });
    expect(res.status).toBe(200);
    expect(res.body.exitCode).toBe(0);
    expect(res.body.result).not.toContain("intranet-secret");
    // The session's own context is held to the policy too.
    const direct = await interact(server.url, attacker, { code: probeCode([secretUrl], false) });
    expect(direct.body.result).not.toContain("intranet-secret");
  });

  it("no port on this machine hands another session's page to a bypassing context", async () => {
    const urls = debugUrls(listeningPorts());
    const res = await interact(server.url, attacker, { code: probeCode(urls, true), timeout: 120 });
    expect(res.status).toBe(200);
    expect(res.body.exitCode).toBe(0);
    expect(res.body.result).not.toContain(TOKEN);
    expect(res.body.result).not.toContain("webSocketDebuggerUrl");
    {
      const v = await victimIsAlive(server, victim);
      expect(v.url, v.tabs).toContain(TOKEN);
    }
  }, 180_000);
});

describe("with the default settings (private networks allowed)", () => {
  let server: TestServer;
  let site: FixtureSite;
  let victim: string;
  let attacker: string;

  beforeAll(async () => {
    site = await startFixtureSite();
    server = await startTestServer();
    victim = await scrapeId(server.url, { url: `${site.url}/?token=${TOKEN}` });
    attacker = await scrapeId(server.url, { url: site.url });
    {
      const v = await victimIsAlive(server, victim);
      expect(v.url, v.tabs).toContain(TOKEN);
    }
  });

  afterAll(() => closeAll(server, site));

  it("a plain scrape reaches no browser's debugging endpoint on any port", async () => {
    // A scrape in flight in the shared scrape browser is a victim too.
    const slow = postJson(`${server.url}/v2/scrape`, {
      url: `${site.url}/slow?ms=4000&token=${TOKEN}`,
    });
    // In flight once the site has its request.
    await expect
      .poll(() => site.requests.some((r) => r.path === "/slow" && r.query.includes(TOKEN)), {
        timeout: 10_000,
      })
      .toBe(true);
    const ports = listeningPorts();
    for (const url of debugUrls(ports)) {
      const res = await postJson(`${server.url}/v2/scrape`, {
        url,
        formats: ["rawHtml"],
        timeout: 5000,
      });
      const text = JSON.stringify(res.body);
      expect(text, url).not.toContain(TOKEN);
      expect(text, url).not.toContain("webSocketDebuggerUrl");
    }
    expect((await slow).status).toBe(200);
    {
      const v = await victimIsAlive(server, victim);
      expect(v.url, v.tabs).toContain(TOKEN);
    }
  }, 180_000);

  it("a scrape cannot call this server's own API, on loopback or the LAN side", async () => {
    const port = new URL(server.url).port;
    for (const host of ["127.0.0.1", "localhost", ...hostAddresses()]) {
      const res = await postJson(`${server.url}/v2/scrape`, {
        url: `http://${host}:${port}/health`,
        formats: ["rawHtml"],
        timeout: 5000,
      });
      expect(res.status, host).toBe(403);
      expect(res.body.error, host).toMatch(/this server/);
    }
  });

  it("a session cannot reach this server's API or another session's browser, even bypassing its proxy", async () => {
    const port = new URL(server.url).port;
    const urls = [`http://127.0.0.1:${port}/health`, ...debugUrls(listeningPorts())];
    for (const bypass of [true, false]) {
      const res = await interact(server.url, attacker, {
        code: probeCode(urls, bypass),
        timeout: 120,
      });
      expect(res.body.exitCode).toBe(0);
      expect(res.body.result).not.toContain(TOKEN);
      expect(res.body.result).not.toContain("activeSessions");
      expect(res.body.result).not.toContain("webSocketDebuggerUrl");
    }
    {
      const v = await victimIsAlive(server, victim);
      expect(v.url, v.tabs).toContain(TOKEN);
    }
  }, 240_000);
});
