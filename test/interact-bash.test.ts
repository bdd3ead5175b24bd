import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import Firecrawl from "@mendable/firecrawl-js";
import type { FixtureSite } from "./helpers/fixture-site.js";
import { interact, scrapeId } from "./helpers/interact.js";
import type { TestServer } from "./helpers/server.js";
import { useSecretServer } from "./helpers/secret-server.js";

const probe = useSecretServer({ BROWSER_POOL_SIZE: "1" });
let server: TestServer;
let site: FixtureSite;
let id: string;
beforeAll(() => {
  ({ server, site, id } = probe);
});

const sh = async (code: string, timeout = 30, scrape = id) =>
  (await interact(server.url, scrape, { code, language: "bash", timeout })).body;
const lang = async (language: string, code: string, scrape = id) =>
  (await interact(server.url, scrape, { code, language, timeout: 30 })).body;

describe("bash in a live session", () => {
  test("a script's output is stdout and result, its exit status is exitCode", async () => {
    const res = await sh("echo hello; echo warn >&2; printf '%s' \"$((6 * 7))\"");
    expect(res).toMatchObject({
      success: true,
      stdout: "hello\n42",
      result: "hello\n42",
      stderr: "warn\n",
      exitCode: 0,
      killed: false,
    });
    const failed = await sh("echo partial; exit 3");
    expect(failed).toMatchObject({ success: false, exitCode: 3, stdout: "partial\n" });
    expect(failed.error).toBeTruthy();
  });

  test("an unknown command fails with bash's own message", async () => {
    const res = await sh("no-such-command --flag");
    expect(res).toMatchObject({ success: false, exitCode: 127 });
    expect(res.stderr).toContain("no-such-command: command not found");
    expect(res.error).toContain("command not found");
  });

  test("agent-browser is on PATH and attached to the session's browser, with no flags", async () => {
    const res = await sh("agent-browser get title && agent-browser get url");
    expect(res.success, JSON.stringify(res)).toBe(true);
    expect(res.stdout).toBe(`Fixture Home\n${site.url}/\n`);
  });

  test("refs from a snapshot in one call stay valid in the next", async () => {
    const form = await scrapeId(server.url, { url: `${site.url}/form` });
    const snap = await sh("agent-browser snapshot -i", 30, form);
    expect(snap.success).toBe(true);
    const ref = /textbox[^\n]*\[ref=(e\d+)\]/.exec(snap.stdout)?.[1];
    expect(ref).toBeTruthy();
    const fill = await sh(`agent-browser fill @${ref} "filled from bash"`, 30, form);
    expect(fill.success).toBe(true);
    expect((await lang("node", "await page.inputValue('#user')", form)).result).toBe(
      "filled from bash",
    );
  });

  test("a click by ref in bash shows in python's page.url and node's page.url()", async () => {
    const scrape = await scrapeId(server.url, { url: `${site.url}/` });
    const snap = await sh("agent-browser snapshot -i", 30, scrape);
    const ref = /link "About us" \[ref=(e\d+)\]/.exec(snap.stdout)?.[1];
    expect(ref).toBeTruthy();
    expect((await sh(`agent-browser click @${ref}`, 30, scrape)).success).toBe(true);
    await lang("node", "await page.waitForURL('**/about')", scrape);
    expect((await lang("python", "page.url", scrape)).result).toBe(`${site.url}/about`);
    expect((await lang("node", "page.url()", scrape)).result).toBe(`${site.url}/about`);
  });

  test("past its timeout the whole script is killed with 124 and the session survives", async () => {
    const res = await sh("(sleep 60; echo late) & sleep 60", 1);
    expect(res).toMatchObject({ success: false, killed: true, exitCode: 124 });
    expect(res.error).toMatch(/timed out/i);
    const next = await sh("agent-browser get title");
    expect(next.stdout, JSON.stringify(next)).toBe("Fixture Home\n");
  });

  test("output is bounded and marked truncated", async () => {
    const res = await sh("head -c 3000000 /dev/zero | tr '\\0' x");
    expect(res.success).toBe(true);
    expect(res.truncated).toBe(true);
    expect(res.stdout.length).toBeLessThanOrEqual(1024 * 1024);
  });

  test("nothing a script starts outlives its call, except agent-browser's daemon", async () => {
    await sh("agent-browser get url >/dev/null; sleep 300 & setsid sleep 300 & nohup sleep 300 &");
    const left = await sh(
      "for p in /proc/[0-9]*; do n=${p#/proc/}; [ \"$n\" -gt 2 ] && [ \"$n\" != $$ ] && tr '\\0' ' ' < $p/cmdline && echo; done; true",
    );
    expect(left.success).toBe(true);
    const commands = left.stdout.split("\n").filter((l: string) => l.trim());
    expect(commands.filter((c: string) => c.includes("sleep"))).toEqual([]);
    // The daemon holds the refs between calls; it is the only survivor (besides this script).
    for (const c of commands) expect(c).toMatch(/agent-browser|for p in|tr |^$/);
  });

  test("a program dressed as agent-browser's daemon does not outlive its call", async () => {
    // The real binary, told it is a daemon: once plainly, once with a library of the caller's
    // preloaded into it that starts a thread of its own (here it only waits; it could do anything).
    const lib = preloadLibrary(
      "#include <pthread.h>\n" +
        "static void *own(void *arg) { for (;;) pause(); return arg; }\n" +
        "__attribute__((constructor)) static void start(void) " +
        "{ pthread_t t; pthread_create(&t, 0, own, 0); }",
    );
    const started = await sh(
      (lib ? `echo ${lib.toString("base64")} | base64 -d > /work/mine.so; ` : "") +
        "AGENT_BROWSER_DAEMON=1 AGENT_BROWSER_SESSION=mine setsid agent-browser >/dev/null 2>&1 & echo $!; " +
        (lib
          ? "AGENT_BROWSER_DAEMON=1 AGENT_BROWSER_SESSION=lib LD_PRELOAD=/work/mine.so " +
            "setsid agent-browser >/dev/null 2>&1 & echo $!; "
          : "") +
        "sleep 0.3",
    );
    expect(started.success, JSON.stringify(started)).toBe(true);
    const pids = started.stdout.trim().split("\n");
    expect(pids.length).toBe(lib ? 2 : 1);
    for (const pid of pids) {
      const later = await sh(`[ -d /proc/${pid} ] && echo alive || echo gone`);
      expect(later.stdout.trim(), pid).toBe("gone");
    }
    // The runner's own daemon still serves agent-browser.
    expect((await sh("agent-browser get title")).stdout).toBe("Fixture Home\n");
  });

  test("the official SDK's interact works unchanged with language bash", async () => {
    const app = new Firecrawl({ apiKey: "fc-test", apiUrl: server.url });
    const res = await app.interact(id, { code: "agent-browser get title", language: "bash" });
    expect(res.success, JSON.stringify(res)).toBe(true);
    expect(res.stdout).toBe("Fixture Home\n");
  });
});

/** A shared library built from `source` with the host's C compiler; undefined without one. */
function preloadLibrary(source: string): Buffer | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fc-preload-"));
  try {
    fs.writeFileSync(path.join(dir, "lib.c"), `#include <unistd.h>\n${source}\n`);
    execFileSync(
      "cc",
      ["-shared", "-fPIC", "-o", path.join(dir, "lib.so"), path.join(dir, "lib.c")],
      {
        stdio: "ignore",
      },
    );
    return fs.readFileSync(path.join(dir, "lib.so"));
  } catch {
    console.warn("no C compiler: the preloaded library is not tried");
    return undefined;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
