import path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import Firecrawl from "@mendable/firecrawl-js";
import type { FixtureSite } from "./helpers/fixture-site.js";
import { hostAddresses, listeningPorts } from "./helpers/ports.js";
import { interact, scrapeId } from "./helpers/interact.js";
import type { TestServer } from "./helpers/server.js";
import { useSecretServer } from "./helpers/secret-server.js";

const probe = useSecretServer({ BROWSER_POOL_SIZE: "1" });
const SECRET = probe.secret;
let server: TestServer;
let site: FixtureSite;
let id: string;
beforeAll(() => {
  ({ server, site, id } = probe);
});

const py = async (code: string, timeout = 30, scrape = id) =>
  (await interact(server.url, scrape, { code, language: "python", timeout })).body;
const node = async (code: string, scrape = id) =>
  (await interact(server.url, scrape, { code, language: "node", timeout: 30 })).body;

describe("python code in a live session", () => {
  test("top-level await on the session's page; print is stdout, the last expression is result", async () => {
    const res = await py("title = await page.title()\nprint(title)\ntitle");
    expect(res).toMatchObject({
      success: true,
      stdout: "Fixture Home\n",
      result: "Fixture Home",
      stderr: "",
      exitCode: 0,
      killed: false,
    });
    expect(res.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.cdpUrl).toMatch(/\/cdp\//);
    expect(res).not.toHaveProperty("error");
  });

  test("result is the repr of a non-string value, and empty without a final expression", async () => {
    expect((await py("{'a': 1, 'b': [1, 2]}")).result).toBe("{'a': 1, 'b': [1, 2]}");
    expect((await py("40 + 2")).result).toBe("42");
    expect((await py("x = 1")).result).toBe("");
    expect((await py("print('only printed')")).result).toBe("");
  });

  test("bindings, functions and imports persist between calls", async () => {
    await py(
      "import json\ncounter = 41\nasync def heading():\n    return await page.text_content('h1')",
    );
    expect((await py("counter += 1\ncounter")).result).toBe("42");
    expect((await py("json.dumps({'h1': await heading()})")).result).toBe(
      '{"h1": "Hello fixture"}',
    );
  });

  test("an exception: success false, exit code 1, the traceback in stderr, the message in error", async () => {
    const res = await py("def explode():\n    raise ValueError('boom')\n\nexplode()");
    expect(res.success).toBe(false);
    expect(res.exitCode).toBe(1);
    expect(res.killed).toBe(false);
    expect(res.error).toBe("ValueError: boom");
    expect(res.stderr).toContain("Traceback (most recent call last):");
    expect(res.stderr).toContain("raise ValueError('boom')");
    // The runner's own frames are not the user's business.
    expect(res.stderr).not.toContain("runner.py");
  });

  test("a syntax error and a Playwright error are reported the same way", async () => {
    const syntax = await py("def f(:\n  pass");
    expect(syntax).toMatchObject({ success: false, exitCode: 1 });
    expect(syntax.error).toMatch(/^SyntaxError/);
    const missing = await py("await page.click('#no-such-thing', timeout=300)");
    expect(missing).toMatchObject({ success: false, exitCode: 1 });
    expect(missing.error).toMatch(/TimeoutError/);
  });

  test("past its timeout a run is killed with 124; the interpreter, its variables and the session survive", async () => {
    await py("kept = 'still here'");
    for (const code of ["while True:\n    pass", "await page.wait_for_timeout(60_000)"]) {
      const res = await py(code, 1);
      expect(res).toMatchObject({ success: false, killed: true, exitCode: 124 });
      expect(res.error).toMatch(/timed out/i);
    }
    expect((await py("kept")).result).toBe("still here");
    expect((await py("await page.title()")).result).toBe("Fixture Home");
  });

  test("an interpreter that had to go is replaced by a fresh one on the next call", async () => {
    await py("lost = 1");
    const res = await py("import os\nos._exit(3)");
    expect(res.success).toBe(false);
    expect(res.error).toMatch(/restarted; earlier variables are gone/);
    const next = await py("print('lost' in globals())\nawait page.title()");
    expect(next).toMatchObject({ success: true, stdout: "False\n", result: "Fixture Home" });
  });

  test("python reconnects after the node worker had to be restarted", async () => {
    const stuck = await interact(server.url, id, {
      code: "await new Promise((r) => setTimeout(r, 10)); while (true) {}",
      timeout: 1,
    });
    expect(stuck.body.killed).toBe(true);
    const res = await py("await page.title()");
    expect(res).toMatchObject({ success: true, result: "Fixture Home" });
  });

  test("output is bounded and marked truncated", async () => {
    const res = await py("print('x' * 3_000_000)\n'y' * 3_000_000");
    expect(res.success).toBe(true);
    expect(res.truncated).toBe(true);
    expect(res.stdout.length).toBeLessThanOrEqual(1024 * 1024);
    expect(res.result.length).toBeLessThanOrEqual(1024 * 1024);
  });

  test("python and node share one page: what one does the other sees", async () => {
    const form = await scrapeId(server.url, { url: `${site.url}/form` });
    await node("await page.fill('#user', 'typed by node')", form);
    expect((await py("await page.input_value('#user')", 30, form)).result).toBe("typed by node");
    await py(`await page.goto('${site.url}/')`, 30, form);
    expect((await node("page.url()", form)).result).toBe(`${site.url}/`);
    expect((await py("page.url", 30, form)).result).toBe(`${site.url}/`);
  });

  test("the official SDK's interact works unchanged with language python", async () => {
    const app = new Firecrawl({ apiKey: "fc-test", apiUrl: server.url });
    const res = await app.interact(id, { code: "await page.title()", language: "python" });
    expect(res.success).toBe(true);
    expect(res.result).toBe("Fixture Home");
  });
});

describe("python sandbox: the node sandbox's probes, from python", () => {
  test("no server environment, in its own pid namespace", async () => {
    const res = await py(`
import os, json
seen = [json.dumps(dict(os.environ))]
pids = sorted(p for p in os.listdir('/proc') if p.isdigit())
for p in ['1', 'self', '${process.pid}'] + pids:
    try:
        seen.append(open(f'/proc/{p}/environ', 'rb').read().decode('latin1'))
    except OSError as e:
        seen.append(type(e).__name__)
json.dumps({'seen': seen, 'pids': pids})`);
    expect(res.success).toBe(true);
    expect(res.result).not.toContain(SECRET);
    expect(JSON.parse(res.result).pids).toEqual(["1", "2"]);
  });

  test("no data directory, project or session sockets; the root is read-only", async () => {
    const targets = [
      server.dataDir,
      path.join(server.dataDir, "private.txt"),
      process.cwd(),
      "/run/cdp.sock",
    ];
    const res = await py(`
import json, os
tried = []
for p in ${JSON.stringify(targets)}:
    try:
        tried.append(os.listdir(p) if os.path.isdir(p) else open(p).read())
    except OSError as e:
        tried.append(type(e).__name__)
try:
    open('/usr/x', 'w'); write = 'wrote'
except OSError as e:
    write = e.errno
json.dumps({'tried': tried, 'write': write})`);
    expect(res.result).not.toContain(SECRET);
    expect(JSON.parse(res.result)).toEqual({
      tried: ["FileNotFoundError", "FileNotFoundError", "FileNotFoundError", "FileNotFoundError"],
      write: 30, // EROFS
    });
  });

  test("no network and no other session's browser: only its own, at 127.0.0.1:9222", async () => {
    const other = await scrapeId(server.url, { url: `${site.url}/form` });
    expect((await node("1", other)).success).toBe(true);
    const targets = ["127.0.0.1", ...hostAddresses()].flatMap((host) =>
      listeningPorts().map((port) => [host, port]),
    );
    const res = await py(
      `
import json, socket, urllib.request
reached = []
for host, port in ${JSON.stringify(targets)}:
    s = socket.socket()
    s.settimeout(1)
    try:
        s.connect((host, port)); reached.append(f'{host}:{port}')
    except OSError:
        pass
    finally:
        s.close()
own = json.loads(urllib.request.urlopen('http://127.0.0.1:9222/json/version', timeout=5).read())
json.dumps({'reached': reached, 'own': own['webSocketDebuggerUrl'], 'pages': [p.url for p in context.pages]})`,
      60,
    );
    expect(res.success).toBe(true);
    const seen = JSON.parse(res.result);
    expect(seen.reached).toEqual([]);
    expect(seen.own).toBe("ws://127.0.0.1:9222/devtools/browser");
    expect(seen.pages).toContain(`${site.url}/`);
    expect(seen.pages).not.toContain(`${site.url}/form`);
  });

  test("a fork bomb is contained and nothing a run started outlives it", async () => {
    const res = await py(
      `
import os, subprocess, time
failed = 0
for _ in range(300):
    try:
        subprocess.Popen(['/bin/sh', '-c', 'sleep 30'])
    except OSError:
        failed += 1
try:
    subprocess.Popen(['/bin/sh', '-c', 'f(){ f|f& };f'])
except OSError:
    failed += 1
time.sleep(2)
(failed, len([p for p in os.listdir('/proc') if p.isdigit()]))`,
      20,
    );
    expect(res.success).toBe(true);
    const [failed, procs] = res.result.slice(1, -1).split(", ").map(Number);
    expect(failed).toBeGreaterThan(0);
    expect(procs).toBeLessThanOrEqual(64);
    const after = await py("sorted(p for p in __import__('os').listdir('/proc') if p.isdigit())");
    expect(after.result).toBe("['1', '2']");
  });

  test("a memory bomb fails the run, not the server; the next run works", async () => {
    const res = await py("hog = []\nwhile True:\n    hog.append(bytearray(32 * 1024 * 1024))", 60);
    expect(res.success).toBe(false);
    expect(res.error).toMatch(/MemoryError|memory/i);
    expect((await py("1 + 1")).result).toBe("2");
  });
});
