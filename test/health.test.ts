import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

test("GET /health answers 200 once the server is up", async () => {
  const res = await fetch(`${server.url}/health`);
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({
    status: "ok",
    database: "sqlite",
    authentication: false,
  });
});

test("liveness and readiness: /health/live and /health/ready; /health has every check", async () => {
  const live = await fetch(`${server.url}/health/live`);
  expect(live.status).toBe(200);
  expect(await live.json()).toEqual({ status: "ok" });
  const ready = await fetch(`${server.url}/health/ready`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toEqual({ ready: true });
  const full = (await (await fetch(`${server.url}/health`)).json()) as any;
  expect(full.checks).toMatchObject({
    database: { ok: true, writable: true },
    chromium: { ok: true },
    sandbox: { ok: true, mode: "bwrap" },
    pool: { ok: true, ready: expect.any(Number), size: expect.any(Number) },
    memory: { ok: true, availableBytes: expect.any(Number), minFreeBytes: 256 * 1024 * 1024 },
  });
});

test("short of memory, new sessions are refused with a 503 naming it, and /health/ready says so", async () => {
  // More free memory asked for than any machine has: this node is short of it from the start.
  const short = await startTestServer({ MIN_FREE_MEMORY_MB: "100000000" });
  try {
    const ready = await fetch(`${short.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as any).failing.memory).toMatchObject({
      ok: false,
      minFreeBytes: 100_000_000 * 1024 * 1024,
    });
    expect((await fetch(`${short.url}/health/live`)).status).toBe(200);
    const res = await fetch(`${short.url}/v2/browser`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ success: false, code: "LOW_MEMORY" });
    expect(body.error).toMatch(/memory/);
    expect(short.services.sessions.activeCount()).toBe(0);
  } finally {
    await short.close();
  }
});

test("not ready names what is wrong: no Chromium is a 503 on /health/ready, live stays 200", async () => {
  const broken = await startTestServer({ CHROMIUM_PATH: "/nonexistent/chromium" });
  try {
    const ready = await fetch(`${broken.url}/health/ready`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as any;
    expect(body.ready).toBe(false);
    expect(Object.keys(body.failing)).toEqual(["chromium"]);
    expect(body.failing.chromium.error).toMatch(/nonexistent|Chromium/);
    expect((await fetch(`${broken.url}/health/live`)).status).toBe(200);
    expect((await fetch(`${broken.url}/health`)).status).toBe(503);
  } finally {
    await broken.close();
  }
});

test("unknown routes answer a JSON 404", async () => {
  const res = await fetch(`${server.url}/v2/nope`);
  expect(res.status).toBe(404);
  expect(await res.json()).toMatchObject({ success: false });
});
