import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { interact, scrapeId } from "./helpers/interact.js";
import { closeAll, startTestServer, type TestServer } from "./helpers/server.js";

/** What the stand-in bubblewrap prints: a tool's raw output that must never reach a client. */
const SECRET = "SECRET-STDERR /home/operator/.config uid=4242";

let server: TestServer;
let site: FixtureSite;
let dir: string;

beforeAll(async () => {
  // A bubblewrap that fails as a real one does where user namespaces are off: a message on
  // stderr and exit 1.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fc-fake-bwrap-"));
  const bwrap = path.join(dir, "bwrap");
  fs.writeFileSync(bwrap, `#!/bin/sh\necho "${SECRET}" >&2\nexit 1\n`, { mode: 0o755 });
  [server, site] = await Promise.all([
    startTestServer({}, { bwrapPath: bwrap }),
    startFixtureSite(),
  ]);
});
afterAll(async () => {
  await closeAll(server, site);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("without a working sandbox, interact is a 503 that says why in general terms only", async () => {
  // Scrapes still work: their browser runs unjailed behind the egress proxy.
  const id = await scrapeId(server.url, { url: `${site.url}/` });
  const res = await interact(server.url, id, { code: "1" });
  expect(res.status).toBe(503);
  expect(res.body).toMatchObject({ success: false, code: "SANDBOX_UNAVAILABLE" });
  expect(res.body.error).toMatch(
    /^Code execution is unavailable on this server: no working sandbox/,
  );
  expect(res.body.error).toContain("bubblewrap");
  expect(res.body.error).toContain("log");
  expect(JSON.stringify(res.body)).not.toContain("SECRET");
  expect(JSON.stringify(res.body)).not.toContain("uid=4242");
});

test("/health says the sandbox is unavailable, without the tool's output", async () => {
  const res = await fetch(`${server.url}/health`);
  const body = await res.json();
  expect(body.sandbox).toBe("unavailable");
  expect(JSON.stringify(body)).not.toContain("SECRET");
});

test("without Python set up, a python call is a 503 naming what to install; node still runs", async () => {
  const venv = fs.mkdtempSync(path.join(os.tmpdir(), "fc-no-venv-"));
  const [noPython, fixture] = await Promise.all([
    startTestServer({}, { pythonVenv: venv }),
    startFixtureSite(),
  ]);
  try {
    const id = await scrapeId(noPython.url, { url: `${fixture.url}/` });
    const res = await interact(noPython.url, id, { code: "1", language: "python" });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ success: false, code: "SANDBOX_UNAVAILABLE" });
    expect(res.body.error).toContain("python3-venv");
    expect(res.body.error).toContain("npm run setup");
    // Refused before a session exists: no browser was started for it.
    const before = await (await fetch(`${noPython.url}/health`)).json();
    expect(before.activeSessions).toBe(0);
    expect(before.languages.python).toMatchObject({ available: false });
    expect(before.languages.python.reason).toContain("python3-venv");
    expect(before.languages.node).toEqual({ available: true });
    const node = await interact(noPython.url, id, { code: "await page.title()" });
    expect(node.body.result).toBe("Fixture Home");
  } finally {
    await closeAll(noPython, fixture);
    fs.rmSync(venv, { recursive: true, force: true });
  }
});
