import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { freePort } from "./helpers/ports.js";
import { tempDataDir } from "./helpers/server.js";
import { interact, scrapeId } from "./helpers/interact.js";

// What an operator reads: the real entry point's standard output in each log format.

let site: FixtureSite;
const children = new Set<ChildProcess>();
beforeAll(async () => {
  site = await startFixtureSite();
});
afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await site?.close();
});

/** Starts `src/main.ts` as `npm start` would; resolves once /health answers, with its output so far. */
async function start(env: Record<string, string>) {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: tempDataDir(),
      PORT: String(port),
      HOST: "127.0.0.1",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = async () => {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
    children.delete(child);
    return out;
  };
  return { url, output: () => out, stop };
}

test("LOG_FORMAT=json: one JSON object per line, and a normal day has no warnings", async () => {
  const server = await start({ LOG_FORMAT: "json", BROWSER_POOL_SIZE: "1" });
  // A scrape and a session with its sandbox worker: routine work, nothing to act on.
  const id = await scrapeId(server.url, { url: site.url + "/" });
  expect((await interact(server.url, id, { code: "await page.title()" })).body).toMatchObject({
    result: "Fixture Home",
  });
  const out = await server.stop();
  const lines = out.split("\n").filter((l) => l.trim());
  const records = lines.map((l) => JSON.parse(l) as { level: number; msg: string });
  expect(records.some((r) => /listening/i.test(r.msg))).toBe(true);
  expect(records.some((r) => /sandbox worker \d+ started/.test(r.msg))).toBe(true);
  const warnings = records.filter((r) => r.level >= 40);
  expect(warnings, JSON.stringify(warnings)).toEqual([]);
}, 120_000);

test("LOG_FORMAT=pretty: readable lines with a time and a level, not JSON", async () => {
  const server = await start({ LOG_FORMAT: "pretty", BROWSER_POOL_SIZE: "0" });
  const out = await server.stop();
  const listening = out.split("\n").find((l) => /listening/i.test(l));
  expect(listening, out).toMatch(
    /^\[?\d\d:\d\d:\d\d\.\d{3}\]? INFO.*Server listening at http:\/\//,
  );
  expect(() => JSON.parse(listening!)).toThrow();
}, 60_000);
