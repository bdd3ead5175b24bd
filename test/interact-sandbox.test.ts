import path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import type { FixtureSite } from "./helpers/fixture-site.js";
import { commandLine } from "../src/processes/process-table.js";
import { hostAddresses, listeningPorts } from "./helpers/ports.js";
import { interact, scrapeId, serverPids, stop } from "./helpers/interact.js";
import type { TestServer } from "./helpers/server.js";
import { useSecretServer } from "./helpers/secret-server.js";
import { findChromium } from "../src/chromium/find-chromium.js";

// Break-out attempts through the HTTP API. Each must fail; the sandbox module's own tests go
// further (a second sandbox beside the first, other sessions' sockets from the worker).
const probe = useSecretServer();
const SECRET = probe.secret;
let server: TestServer;
let site: FixtureSite;
let id: string;
beforeAll(() => {
  ({ server, site, id } = probe);
});

const run = async (code: string) => (await interact(server.url, id, { code, timeout: 20 })).body;

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

test("a runner restarted after blocking its event loop gets the sandbox's CDP port again", async () => {
  const code = "await new Promise((r) => setTimeout(r, 10)); while (true) {}";
  const blocked = (await interact(server.url, id, { code, timeout: 1 })).body;
  expect(blocked.killed).toBe(true);
  const res = await run(`
    const v = await (await fetch(process.env.BROWSER_CDP_URL + "/json/version")).json();
    v.webSocketDebuggerUrl`);
  expect(res.result).toBe("ws://127.0.0.1:9222/devtools/browser");
});

/** An interact answer's body. */
type Answer = Record<string, any>;

/**
 * One language's break-out attempts: the same doors tried from node, python and bash, each in
 * that language's own terms, and what each attempt must find. The sandbox module's own tests
 * (sandbox-isolation.test.ts) try node's again from the worker, beside a second sandbox.
 */
interface Probes {
  language: "node" | "python" | "bash";
  /** What the run printed or returned: where a leaked secret would show. */
  output(res: Answer): string;
  /** Reads the environment of every process it can see. */
  environment: { code: () => string; check?(res: Answer): void };
  /** Lists or reads the data directory, the project and session sockets; writes to the root. */
  files: { code: () => string; check(res: Answer): void };
  /** Reaches for every port here and for its own browser, another session being open. */
  network: { code: () => string; timeout: number; check(res: Answer): void };
  /** A fork bomb, then a look at what is left once its run is over. */
  forkBomb?: {
    code: string;
    timeout: number;
    after: string;
    check(res: Answer, left: Answer): void;
  };
  /** A memory bomb: the run fails, the next one works. */
  memoryBomb?: { code: string; check(res: Answer): void; next: string; nextOutput: string };
}

/** Every port this machine listens on, on loopback and the LAN side. */
const portTargets = () =>
  ["127.0.0.1", ...hostAddresses()].flatMap((host) =>
    listeningPorts().map((port) => [host, port] as const),
  );

const PROBES: Probes[] = [
  {
    language: "node",
    output: (res) => res.result,
    environment: {
      code: () => `
    const fs = await import("node:fs");
    const seen = [JSON.stringify(process.env)];
    for (const p of fs.readdirSync("/proc")) {
      try { seen.push(fs.readFileSync("/proc/" + p + "/environ", "utf8")); } catch {}
    }
    seen.join("\\n")`,
    },
    files: {
      code: () => `
    const fs = await import("node:fs");
    let out = "";
    try { out += fs.readdirSync(${JSON.stringify(server.dataDir)}).join(","); } catch (e) { out += e.code; }
    try { out += fs.readFileSync(${JSON.stringify(path.join(server.dataDir, "private.txt"))}, "utf8"); } catch (e) { out += e.code; }
    out`,
      check: (res) => expect(res.result).not.toContain("server.db"),
    },
    network: {
      // A separate process, as python or agent-browser would be, asks the port what it serves,
      // and a Playwright connected through it sees this session's page, not the other one.
      code: () => `
    const { execFileSync } = await import("node:child_process");
    const probe = "fetch(process.env.BROWSER_CDP_URL + '/json/version').then(r => r.json()).then(v => console.log(v.webSocketDebuggerUrl))";
    const ws = execFileSync(process.execPath, ["-e", probe], { encoding: "utf8" }).trim();
    const { chromium } = require("playwright-core");
    const b = await chromium.connectOverCDP("http://127.0.0.1:9222");
    const urls = b.contexts().flatMap((c) => c.pages()).map((p) => p.url());
    await b.close();
    JSON.stringify({ ws, urls })`,
      timeout: 30,
      check: (res) => {
        expect(res.success).toBe(true);
        const seen = JSON.parse(res.result);
        expect(seen.ws).toBe("ws://127.0.0.1:9222/devtools/browser");
        expect(seen.urls).toContain(`${site.url}/`);
        expect(seen.urls).not.toContain(`${site.url}/form`);
      },
    },
  },
  {
    language: "python",
    output: (res) => res.result,
    environment: {
      code: () => `
import os, json
seen = [json.dumps(dict(os.environ))]
pids = sorted(p for p in os.listdir('/proc') if p.isdigit())
for p in ['1', 'self', '${process.pid}'] + pids:
    try:
        seen.append(open(f'/proc/{p}/environ', 'rb').read().decode('latin1'))
    except OSError as e:
        seen.append(type(e).__name__)
def cmdline(p):
    try:
        return open(f'/proc/{p}/cmdline', 'rb').read().replace(b'\\0', b' ').decode('latin1')
    except OSError as e:
        return type(e).__name__
json.dumps({'seen': seen, 'pids': pids, 'commands': {p: cmdline(p) for p in pids}})`,
      // Its own pid namespace: the sandbox's init and the runner, nothing of the host.
      check: (res) => {
        const { pids, commands } = JSON.parse(res.result);
        expect(pids, JSON.stringify(commands)).toEqual(["1", "2"]);
      },
    },
    files: {
      code: () => `
import json, os
tried = []
for p in ${JSON.stringify([server.dataDir, path.join(server.dataDir, "private.txt"), process.cwd(), "/run/cdp.sock"])}:
    try:
        tried.append(os.listdir(p) if os.path.isdir(p) else open(p).read())
    except OSError as e:
        tried.append(type(e).__name__)
try:
    open('/usr/x', 'w'); write = 'wrote'
except OSError as e:
    write = e.errno
json.dumps({'tried': tried, 'write': write})`,
      check: (res) =>
        expect(JSON.parse(res.result)).toEqual({
          tried: [
            "FileNotFoundError",
            "FileNotFoundError",
            "FileNotFoundError",
            "FileNotFoundError",
          ],
          write: 30, // EROFS
        }),
    },
    network: {
      code: () => `
import json, socket, urllib.request
reached = []
for host, port in ${JSON.stringify(portTargets())}:
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
      timeout: 60,
      check: (res) => {
        expect(res.success, `${res.error}\n${res.stderr}`).toBe(true);
        const seen = JSON.parse(res.result);
        expect(seen.reached).toEqual([]);
        expect(seen.own).toBe("ws://127.0.0.1:9222/devtools/browser");
        expect(seen.pages).toContain(`${site.url}/`);
        expect(seen.pages).not.toContain(`${site.url}/form`);
      },
    },
    forkBomb: {
      code: `
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
      timeout: 20,
      after: "sorted(p for p in __import__('os').listdir('/proc') if p.isdigit())",
      check: (res, left) => {
        expect(res.success).toBe(true);
        const [failed, procs] = res.result.slice(1, -1).split(", ").map(Number);
        expect(failed).toBeGreaterThan(0);
        expect(procs).toBeLessThanOrEqual(64);
        expect(left.result).toBe("['1', '2']");
      },
    },
    memoryBomb: {
      code: "hog = []\nwhile True:\n    hog.append(bytearray(32 * 1024 * 1024))",
      check: (res) => {
        expect(res.success).toBe(false);
        expect(res.error).toMatch(/MemoryError|memory/i);
      },
      next: "1 + 1",
      nextOutput: "2",
    },
  },
  {
    language: "bash",
    output: (res) => res.stdout,
    environment: {
      code: () =>
        "env; for p in /proc/[0-9]*; do cat $p/environ 2>/dev/null | tr '\\0' '\\n'; done; cat /proc/1/environ 2>&1; ls -d /proc/[0-9]* | wc -l",
    },
    files: {
      code: () => {
        const targets = [
          server.dataDir,
          path.join(server.dataDir, "private.txt"),
          process.cwd(),
          "/run/cdp.sock",
          "/run/playwright.sock",
        ];
        return `for t in ${targets.map((t) => `'${t}'`).join(" ")}; do if [ -e "$t" ]; then echo "seen $t"; cat "$t" 2>/dev/null; fi; done; touch /usr/x 2>&1 || true`;
      },
      check: (res) => {
        expect(res.stdout).not.toContain("seen");
        expect(res.stdout).toContain("Read-only file system");
      },
    },
    network: {
      code: () => `for t in ${portTargets()
        .map(([host, port]) => `${host}/${port}`)
        .join(" ")}; do (exec 3<>/dev/tcp/$t) 2>/dev/null && echo "reached $t"; done
agent-browser get url`,
      timeout: 60,
      check: (res) => {
        expect(res.success, JSON.stringify(res)).toBe(true);
        expect(res.stdout).not.toContain("reached");
        expect(res.stdout).toBe(`${site.url}/\n`);
      },
    },
    forkBomb: {
      // bash itself retries a failed fork for a while: the call may well end by its timeout.
      code: "f(){ f|f& }; f 2>/dev/null; sleep 1; ls -d /proc/[0-9]* | wc -l",
      timeout: 5,
      after: "ls -d /proc/[0-9]* | wc -l",
      check: (res, left) => {
        if (res.success) {
          expect(Number(res.stdout.trim().split("\n").at(-1))).toBeLessThanOrEqual(70);
        } else expect(res.killed).toBe(true);
        // The runner, its init, this script and its ls/wc; maybe agent-browser's daemon.
        expect(Number(left.stdout.trim())).toBeLessThanOrEqual(7);
      },
    },
    memoryBomb: {
      code: "x=$(head -c 2000000000 /dev/zero | tr '\\0' x); echo ${#x}",
      check: (res) => expect(res.success).toBe(false),
      next: "echo alive",
      nextOutput: "alive\n",
    },
  },
];

describe.each(PROBES)("$language code in the sandbox", (p) => {
  const inSandbox = async (code: string, timeout = 30, scrape = id) =>
    (await interact(server.url, scrape, { code, language: p.language, timeout })).body as Answer;

  test("no server environment", async () => {
    const res = await inSandbox(p.environment.code());
    expect(res.success).toBe(true);
    expect(p.output(res)).not.toContain(SECRET);
    p.environment.check?.(res);
  });

  test("no data directory, project or session sockets; the root is read-only", async () => {
    const res = await inSandbox(p.files.code());
    expect(p.output(res)).not.toContain(SECRET);
    p.files.check(res);
  });

  test("no network and no other session's browser: only its own, at 127.0.0.1:9222", async () => {
    const other = await scrapeId(server.url, { url: `${site.url}/form` });
    expect((await interact(server.url, other, { code: "1" })).body.success).toBe(true);
    try {
      p.network.check(await inSandbox(p.network.code(), p.network.timeout));
      // The session's own connection is unharmed by the probe.
      expect((await interact(server.url, id, { code: "await page.title()" })).body.success).toBe(
        true,
      );
    } finally {
      await stop(server.url, other);
    }
  });

  if (p.forkBomb) {
    const bomb = p.forkBomb;
    test("a fork bomb is contained, and nothing a run started outlives it", async () => {
      const res = await inSandbox(bomb.code, bomb.timeout);
      bomb.check(res, await inSandbox(bomb.after));
    });
  }

  if (p.memoryBomb) {
    const bomb = p.memoryBomb;
    test("a memory bomb fails the run, not the session; the next run works", async () => {
      bomb.check(await inSandbox(bomb.code, 60));
      expect(p.output(await inSandbox(bomb.next))).toBe(bomb.nextOutput);
    });
  }
});
