import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  sandboxTempDir,
  startPageServer,
  startSandboxSession,
  type SandboxSession,
} from "./sandbox-fixture.js";
import { hostAddresses, listeningPorts } from "./helpers/ports.js";

// Break-out attempts from inside a worker. Each must fail, and the server must not notice.
const SECRET = `sandbox-secret-${process.pid}-${Date.now()}`;
let root: string;
let dataDir: string;
let a: SandboxSession;
let b: SandboxSession;
let site: Awaited<ReturnType<typeof startPageServer>>;
const run = async (s: SandboxSession, code: string, timeoutMs = 15_000) => {
  const r = await s.worker.exec(code, timeoutMs);
  if (r.exitCode !== 0) throw new Error(`exec failed: ${r.error}\n${r.stderr}`);
  return r.result;
};

beforeAll(async () => {
  process.env.FC_SANDBOX_TEST_SECRET = SECRET;
  root = sandboxTempDir();
  dataDir = path.join(root, "data");
  fs.mkdirSync(dataDir);
  fs.writeFileSync(path.join(dataDir, "secret.txt"), SECRET);
  site = await startPageServer({ "/": "<title>Host site</title>" });
  a = await startSandboxSession(root, "a");
  b = await startSandboxSession(root, "b");
  await Promise.all([a.worker.attach(), b.worker.attach()]);
});

afterAll(async () => {
  delete process.env.FC_SANDBOX_TEST_SECRET;
  await a?.close();
  await b?.close();
  await site?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe("node sandbox worker: isolation", () => {
  it("cannot read the server's environment", async () => {
    const out = await run(
      a,
      `const fs = require("fs");
      const seen = [JSON.stringify(process.env)];
      const pids = fs.readdirSync("/proc").filter((d) => /^\\d+$/.test(d));
      for (const p of ["1", String(process.ppid), "self", ${process.pid}, ...pids]) {
        try { seen.push(fs.readFileSync("/proc/" + p + "/environ", "latin1")) } catch (e) { seen.push(e.code) }
      }
      JSON.stringify({ seen, pids, uid: process.getuid() })`,
    );
    expect(out).not.toContain(SECRET);
    const parsed = JSON.parse(out);
    // Its own pid namespace: the sandbox's init and the runner, nothing of the host.
    expect(parsed.pids).toEqual(["1", "2"]);
    if (process.getuid?.() === 0) expect(parsed.uid).toBeGreaterThanOrEqual(200_000);
  });

  it("cannot see the data directory, the browser profile or the project", async () => {
    const targets = [dataDir, path.join(dataDir, "secret.txt"), b.cdpSocketPath, process.cwd()];
    const out = await run(
      a,
      `const fs = require("fs");
      const tried = ${JSON.stringify(targets)}.map((p) => {
        try { return fs.statSync(p).isDirectory() ? fs.readdirSync(p) : fs.readFileSync(p, "utf8") }
        catch (e) { return e.code }
      });
      let write; try { fs.writeFileSync("/usr/x", "x"); write = "wrote" } catch (e) { write = e.code }
      JSON.stringify({ tried, write, etc: fs.existsSync("/etc/passwd") })`,
    );
    expect(out).not.toContain(SECRET);
    expect(JSON.parse(out)).toEqual({
      tried: ["ENOENT", "ENOENT", "ENOENT", "ENOENT"],
      write: "EROFS",
      etc: false,
    });
  });

  it("cannot reach another session's browser or the network, only its own browser", async () => {
    // Every port this machine listens on, on loopback and the LAN side: a port scan, done quickly.
    const urls = ["127.0.0.1", ...hostAddresses()].flatMap((h) =>
      listeningPorts().map((p) => `http://${h}:${p}/json/version`),
    );
    const out = await run(
      a,
      `const attempt = async (fn) => { try { return await fn() } catch (e) { return "blocked" } };
      const reached = [];
      for (const url of ${JSON.stringify(urls)}) {
        if ((await attempt(async () => (await fetch(url, { signal: AbortSignal.timeout(2000) })).status)) !== "blocked") reached.push(url);
      }
      JSON.stringify({
        reached,
        cdp: await attempt(async () => {
          await require("playwright-core").chromium.connectOverCDP("ws+unix://${b.cdpSocketPath}:/", { timeout: 3000 });
          return "connected";
        }),
        site: await attempt(async () => (await fetch(${JSON.stringify(site.url)})).status),
        own: await page.evaluate(() => 1 + 1),
      })`,
      60_000,
    );
    expect(JSON.parse(out)).toEqual({ reached: [], cdp: "blocked", site: "blocked", own: 2 });
  });

  it("contains a fork bomb per worker and ends it with the run", async () => {
    // A fills its sandbox and stays full until this test lets it go, so B below runs while A is
    // at its limit however slow the machine is. A's page carries both signals: `__full` once
    // every spawn was tried (the failures are counted by then), `__release` to end the run.
    const aPages = () => a.browser.contexts().flatMap((c) => c.pages());
    const bomb = a.worker.exec(
      `const cp = require("child_process"), fs = require("fs");
      let failed = 0;
      for (let i = 0; i < 300; i++) {
        try { cp.spawn("/bin/sh", ["-c", "sleep 30"], { stdio: "ignore" }).on("error", () => failed++) }
        catch { failed++ }
      }
      cp.spawn("/bin/sh", ["-c", "f(){ f|f& };f"], { stdio: "ignore" }).on("error", () => {});
      await new Promise((r) => setImmediate(r));
      await page.evaluate(() => (window.__full = true));
      await page.waitForFunction(() => window.__release === true, undefined, { timeout: 0 });
      JSON.stringify({ failed, procs: fs.readdirSync("/proc").filter((d) => /^\\d+$/.test(d)).length })`,
      60_000,
    );
    const release = () =>
      Promise.all(aPages().map((p) => p.evaluate("window.__release = true").catch(() => {})));
    try {
      await expect
        .poll(
          async () => {
            const pages = aPages().map((p) => p.evaluate("window.__full === true"));
            return (await Promise.all(pages)).includes(true);
          },
          { timeout: 30_000 },
        )
        .toBe(true);
      // While A is at its limit, B (same kind of worker, maybe the same uid when not root)
      // still starts processes: the limit counts per sandbox, not per machine. B's own 10 s
      // deadline, a hundred times what five shells take, is the bound: a run past it is killed
      // and run() throws.
      const other = await run(
        b,
        `const cp = require("child_process");
        const codes = await Promise.all([1, 2, 3, 4, 5].map(() => new Promise((r) =>
          cp.spawn("/bin/sh", ["-c", "exit 0"]).on("exit", r).on("error", () => r("error")))));
        codes.join(",")`,
        10_000,
      );
      expect(other).toBe("0,0,0,0,0");
    } finally {
      await release();
    }

    const r = await bomb;
    expect(r.exitCode).toBe(0);
    const { failed, procs } = JSON.parse(r.result);
    expect(failed).toBeGreaterThan(0);
    expect(procs).toBeLessThanOrEqual(64);
    // The run is over: everything it started is gone, and the worker answers at once.
    const after = await run(
      a,
      `require("fs").readdirSync("/proc").filter((d) => /^\\d+$/.test(d)).join(",")`,
    );
    expect(after).toBe("1,2");
  });

  it("survives a heap memory bomb: the run fails, the next one works", async () => {
    const rss = process.memoryUsage().rss;
    const r = await a.worker.exec(
      "const hog = []; while (true) hog.push(new Array(1e6).fill(7));",
      60_000,
    );
    expect(r.exitCode).not.toBe(0);
    expect(r.error).toMatch(/memory/i);
    expect(process.memoryUsage().rss - rss).toBeLessThan(200 * 1024 * 1024);
    expect(await run(a, "await page.evaluate(() => 40 + 2)")).toBe("42");
  });

  it("survives a buffer memory bomb: allocation fails inside the run", async () => {
    const r = await a.worker.exec(
      "(() => { const bufs = []; for (;;) bufs.push(Buffer.alloc(32 * 1024 * 1024, 1)) })()",
      60_000,
    );
    expect(r.exitCode).not.toBe(0);
    expect(r.error).toMatch(/memory|allocation failed/i);
    expect(await run(a, "1 + 1")).toBe("2");
  });
});
