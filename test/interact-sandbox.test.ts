import path from "node:path";
import { beforeAll, expect, test } from "vitest";
import type { FixtureSite } from "./helpers/fixture-site.js";
import { commandLine } from "../src/processes/process-table.js";
import { listeningPorts } from "./helpers/ports.js";
import { interact, scrapeId, serverPids } from "./helpers/interact.js";
import type { TestServer } from "./helpers/server.js";
import { useSecretServer } from "./helpers/secret-server.js";
import { findChromium } from "../src/browser/find-chromium.js";

// Break-out attempts through the HTTP API. Each must fail; the sandbox module's own tests go
// further (fork and memory bombs, other sessions' ports from the worker).
const probe = useSecretServer();
const SECRET = probe.secret;
let server: TestServer;
let site: FixtureSite;
let id: string;
beforeAll(() => {
  ({ server, site, id } = probe);
});

const run = async (code: string) => (await interact(server.url, id, { code, timeout: 20 })).body;

test("code cannot read the server's environment", async () => {
  const res = await run(`
    const fs = await import("node:fs");
    const seen = [JSON.stringify(process.env)];
    for (const p of fs.readdirSync("/proc")) {
      try { seen.push(fs.readFileSync("/proc/" + p + "/environ", "utf8")); } catch {}
    }
    seen.join("\\n")`);
  expect(res.success).toBe(true);
  expect(res.result).not.toContain(SECRET);
});

test("code cannot change the runner or the code cache every session's runner loads", async () => {
  // Both are shared by all sessions: a tenant that could write them would run code in others'.
  await expect
    .poll(
      async () =>
        (await run(`(await import("node:fs")).existsSync("/opt/fc/runner/code-cache")`)).result,
      {
        timeout: 20_000,
      },
    )
    .toBe("true");
  const res = await run(`
    const fs = await import("node:fs");
    const tries = {};
    for (const f of ["/opt/fc/runner/code-cache/coreBundle.js.v8", "/opt/fc/runner/browser.mjs"]) {
      try { fs.writeFileSync(f, "x"); tries[f] = "written"; } catch (e) { tries[f] = e.code; }
    }
    try { fs.renameSync("/opt/fc/runner/code-cache", "/opt/fc/runner/moved"); tries.rename = "moved"; } catch (e) { tries.rename = e.code; }
    JSON.stringify(tries)`);
  const tries = JSON.parse(res.result) as Record<string, string>;
  for (const outcome of Object.values(tries))
    expect(["EROFS", "EACCES", "EPERM"]).toContain(outcome);
  const cache = (
    await run(
      `(await import("node:fs")).statSync("/opt/fc/runner/code-cache/coreBundle.js.v8").size`,
    )
  ).result;
  expect(Number(cache)).toBeGreaterThan(100_000);
});

test("code cannot list or read the data directory", async () => {
  const res = await run(`
    const fs = await import("node:fs");
    let out = "";
    try { out += fs.readdirSync(${JSON.stringify(server.dataDir)}).join(","); } catch (e) { out += e.code; }
    try { out += fs.readFileSync(${JSON.stringify(path.join(server.dataDir, "private.txt"))}, "utf8"); } catch (e) { out += e.code; }
    out`);
  expect(res.result).not.toContain(SECRET);
  expect(res.result).not.toContain("server.db");
});

test("the session's browser cannot read the server's files or environment either", async () => {
  const res = await run(`
    const out = [];
    for (const url of ["file://${path.join(server.dataDir, "private.txt")}", "file:///proc/${process.pid}/environ", "file:///proc/1/environ"]) {
      const p = await context.newPage();
      try { await p.goto(url, { timeout: 5000 }); out.push(await p.content()); } catch (e) { out.push(String(e.message)); }
      await p.close();
    }
    out.join("\\n")`);
  expect(res.result).not.toContain(SECRET);
});

test("no browser has a debugging port; its pages reach only what the policy allows", async () => {
  const other = await scrapeId(server.url, { url: `${site.url}/` });
  await interact(server.url, other, { code: "1" });
  // Every Chromium of ours speaks CDP over a pipe: there is no port to find.
  // Ours: started by this server (other programs on the machine may run their own Chromium).
  const executable = findChromium(undefined);
  const ours = (await serverPids(server.dataDir))
    .map((pid) => commandLine(pid) ?? "")
    .filter((cmd) => cmd.includes(`${executable}\0`));
  expect(ours.length).toBeGreaterThan(0);
  for (const cmd of ours) expect(cmd).not.toContain("--remote-debugging-port");
  const urls = listeningPorts().map((p) => `http://127.0.0.1:${p}/json/version`);
  const res = await run(`
    const out = [];
    for (const url of ${JSON.stringify(urls)}) {
      const p = await context.newPage();
      try { await p.goto(url, { timeout: 5000 }); out.push(await p.content()); } catch (e) { out.push(e.message); }
      await p.close();
    }
    out.join("\\n")`);
  expect(res.success).toBe(true);
  expect(res.result).not.toContain("webSocketDebuggerUrl");
  // The fixture site on loopback stays reachable: only debugging ports are off limits.
  const ok = await run(
    `const p = await context.newPage(); await p.goto(${JSON.stringify(site.url + "/")}); const t = await p.title(); await p.close(); t`,
  );
  expect(ok.result).toBe("Fixture Home");
});

test("every process in the sandbox reaches its own session's browser at 127.0.0.1:9222, and only it", async () => {
  const other = await scrapeId(server.url, { url: `${site.url}/form` });
  expect((await interact(server.url, other, { code: "1" })).status).toBe(200);
  // A separate process, as python or agent-browser would be, asks the port what it serves...
  const res = await run(`
    const { execFileSync } = await import("node:child_process");
    const probe = "fetch(process.env.BROWSER_CDP_URL + '/json/version').then(r => r.json()).then(v => console.log(v.webSocketDebuggerUrl))";
    const ws = execFileSync(process.execPath, ["-e", probe], { encoding: "utf8" }).trim();
    // ...and a Playwright connected through it sees this session's page, not the other one.
    const { chromium } = require("playwright-core");
    const b = await chromium.connectOverCDP("http://127.0.0.1:9222");
    const urls = b.contexts().flatMap((c) => c.pages()).map((p) => p.url());
    await b.close();
    JSON.stringify({ ws, urls })`);
  expect(res.success).toBe(true);
  const seen = JSON.parse(res.result);
  expect(seen.ws).toBe("ws://127.0.0.1:9222/devtools/browser");
  expect(seen.urls).toContain(`${site.url}/`);
  expect(seen.urls).not.toContain(`${site.url}/form`);
  // The session's own connection is unharmed by the extra client leaving.
  expect((await run("await page.title()")).success).toBe(true);
});

test("a runner restarted after blocking its event loop gets the sandbox's CDP port again", async () => {
  const code = "await new Promise((r) => setTimeout(r, 10)); while (true) {}";
  const blocked = (await interact(server.url, id, { code, timeout: 1 })).body;
  expect(blocked.killed).toBe(true);
  const res = await run(`
    const v = await (await fetch(process.env.BROWSER_CDP_URL + "/json/version")).json();
    v.webSocketDebuggerUrl`);
  expect(res.result).toBe("ws://127.0.0.1:9222/devtools/browser");
});
