import fs from "node:fs";
import path from "node:path";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { interact, scrapeId } from "./helpers/interact.js";
import { closeAll, startTestServer, type TestServer } from "./helpers/server.js";

// A hostile tenant against the host: its files, its memory and disk, its CPU.
const SECRET = `server-secret-${process.pid}-${Date.now()}`;
let server: TestServer;
let site: FixtureSite;

beforeAll(async () => {
  // The server runs in this process: its environment is the test's.
  process.env.FC_SECURITY_TEST_SECRET = SECRET;
  site = await startFixtureSite();
  server = await startTestServer({ BROWSER_PROFILE_MB: "64", CDP_MAX_MESSAGE_MB: "4" });
  fs.writeFileSync(path.join(server.dataDir, "secret.txt"), SECRET);
});

afterAll(async () => {
  delete process.env.FC_SECURITY_TEST_SECRET;
  await closeAll(server, site);
});

const run = async (id: string, code: string, timeout = 30) => {
  const res = await interact(server.url, id, { code, timeout });
  expect(res.status).toBe(200);
  return res.body;
};

describe("the session browser and the host's files", () => {
  it("a page cannot read host secrets, the server's environment or its data", async () => {
    const id = await scrapeId(server.url, { url: site.url });
    const files = [
      "/etc/shadow",
      "/etc/passwd",
      `/proc/${process.pid}/environ`,
      "/proc/1/environ",
      path.join(server.dataDir, "secret.txt"),
      path.join(server.dataDir, "server.db"),
      server.dataDir,
      process.cwd(),
    ];
    const body = await run(
      id,
      `const seen = {};
      for (const f of ${JSON.stringify(files)}) {
        try { await page.goto("file://" + f, { timeout: 3000 }); seen[f] = await page.content(); }
        catch (e) { seen[f] = String(e.message).split("\\n")[0]; }
      }
      JSON.stringify(seen)`,
    );
    expect(body.exitCode).toBe(0);
    const seen = JSON.parse(body.result) as Record<string, string>;
    expect(seen["/etc/shadow"]).not.toMatch(/root:/);
    expect(seen["/etc/passwd"]).not.toMatch(/root:x:0/);
    for (const text of Object.values(seen)) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain("SQLite format");
    }
  });
});

describe("quotas", () => {
  it("the code worker cannot fill the host's memory through its root filesystem", async () => {
    const id = await scrapeId(server.url, { url: site.url });
    const body = await run(
      id,
      `const fs = require("fs");
      const chunk = Buffer.alloc(60 * 1024 * 1024, 1);
      const out = [];
      for (const dir of ["/", "/tmp", "/work", "/dev", "/dev/shm", "/run"]) {
        let written = 0;
        try { for (let i = 0; i < 10; i++) { fs.writeFileSync(dir + "/fill" + i, chunk); written++; } }
        catch (e) { out.push(dir + ":" + e.code); }
        for (let i = 0; i < written; i++) { try { fs.unlinkSync(dir + "/fill" + i) } catch {} }
        out.push(dir + ":" + written);
      }
      JSON.stringify(out)`,
      60,
    );
    expect(body.exitCode).toBe(0);
    // Nowhere may the ten 60 MB files all be written.
    expect(JSON.parse(body.result)).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/:10$/)]),
    );
  });

  it("a page's storage is bounded by the profile quota", async () => {
    const id = await scrapeId(server.url, { url: site.url });
    const body = await run(
      id,
      `const r = await page.evaluate(async () => {
        const { quota } = await navigator.storage.estimate();
        const cache = await caches.open("fill");
        const blob = new Uint8Array(10 * 1024 * 1024);
        let stored = 0, error = "";
        try {
          for (let i = 0; i < 12; i++) { await cache.put("/fill/" + i, new Response(blob)); stored++; }
        } catch (e) { error = e.name; }
        await caches.delete("fill");
        return { quota, stored, error };
      });
      JSON.stringify(r)`,
      60,
    );
    expect(body.exitCode).toBe(0);
    const r = JSON.parse(body.result);
    // BROWSER_PROFILE_MB is 64: 120 MB do not fit, whatever quota Chromium reports.
    expect(r.stored).toBeLessThan(7);
    expect(r.error).toBe("QuotaExceededError");
  });

  it("a CDP message over the limit closes that connection and nothing else", async () => {
    const id = await scrapeId(server.url, { url: site.url });
    const first = await run(id, "page.url()");
    const ws = new WebSocket(first.cdpUrl);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    ws.on("error", () => {});
    // CDP_MAX_MESSAGE_MB is 4.
    ws.send(
      JSON.stringify({
        id: 1,
        method: "Runtime.evaluate",
        params: { expression: "x".repeat(8 << 20) },
      }),
    );
    expect(await closed).toBe(1009);
    // The session is untouched and a new connection works.
    const again = await run(id, "await page.evaluate(() => 6 * 7)");
    expect(again.result).toBe("42");
    const ok = new WebSocket(first.cdpUrl);
    const reply = await new Promise<any>((resolve, reject) => {
      ok.once("open", () => ok.send(JSON.stringify({ id: 7, method: "Browser.getVersion" })));
      ok.once("message", (d) => resolve(JSON.parse(String(d))));
      ok.once("error", reject);
    });
    ok.close();
    expect(reply.id).toBe(7);
    expect(reply.result.product).toMatch(/Chrome/);
  });
});

describe("CPU", () => {
  it("a page script stuck in a loop is stopped when the run times out", async () => {
    const id = await scrapeId(server.url, { url: site.url });
    const stuck = await run(id, "await page.evaluate(() => { while (true) {} })", 2);
    expect(stuck.killed).toBe(true);
    expect(stuck.exitCode).toBe(124);
    // Without stopping the script, the page's main thread stays busy and this never answers.
    const next = await run(id, "await page.evaluate(() => 1 + 1)", 10);
    expect(next.exitCode).toBe(0);
    expect(next.result).toBe("2");
  });
});
