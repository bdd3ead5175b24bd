// npm run bench:interact: first-interact latency against a raw Playwright baseline, warm
// round-trip, memory per live session and DELETE latency; then python's and bash's first call,
// warm round trip and python's extra memory. Prints figures; asserts nothing.
import os from "node:os";
import { chromium } from "playwright-core";
import { CHROMIUM_FLAGS } from "../src/browser/flags.js";
import { findChromium } from "../src/browser/find-chromium.js";
import { startFixtureSite } from "../test/helpers/fixture-site.js";
import { interact, scrapeId, stop } from "../test/helpers/interact.js";
import { startTestServer } from "../test/helpers/server.js";
import { descendants, line, median, pssBytes, time } from "./lib.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const site = await startFixtureSite();
  const pageUrl = `${site.url}/`;
  console.log(
    `interact benchmark: ${RUNS} runs, ${os.cpus().length} cores, Node ${process.version}`,
  );

  // Baseline: a browser that is already running; new page + goto + title.
  const raw = await chromium.launch({
    executablePath: findChromium(undefined),
    args: [...CHROMIUM_FLAGS],
  });
  const ctx = await raw.newContext();
  const baseline: number[] = [];
  for (let i = 0; i < RUNS + 3; i++) {
    const t = await time(async () => {
      const page = await ctx.newPage();
      await page.goto(pageUrl);
      await page.title();
      await page.close();
    });
    if (i >= 3) baseline.push(t);
  }
  await raw.close();

  const server = await startTestServer({ BROWSER_POOL_SIZE: "2", MAX_BROWSER_SESSIONS: "64" });
  const first: number[] = [];
  const del: number[] = [];
  for (let i = 0; i < RUNS + 2; i++) {
    const id = await scrapeId(server.url, { url: pageUrl });
    await sleep(1500); // let the warm pool refill, as it would between real users
    const t = await time(async () => {
      const res = await interact(server.url, id, { code: "await page.title()" });
      if (res.body.result !== "Fixture Home")
        throw new Error(`run ${i}: ${JSON.stringify(res.body)}`);
    });
    const d = await time(() => stop(server.url, id));
    if (i >= 2) {
      first.push(t);
      del.push(d);
    }
  }

  const id = await scrapeId(server.url, { url: pageUrl });
  await interact(server.url, id, { code: "await page.title()" });
  const warm: number[] = [];
  for (let i = 0; i < RUNS * 5; i++) {
    warm.push(await time(() => interact(server.url, id, { code: "await page.title()" })));
  }
  await stop(server.url, id);

  // Python and bash on a live session: the first call starts the language's runner.
  const pyFirst: number[] = [];
  for (let i = 0; i < Math.max(5, RUNS / 2); i++) {
    const s = await scrapeId(server.url, { url: pageUrl });
    await interact(server.url, s, { code: "1" });
    await sleep(500);
    pyFirst.push(await time(() => expectResult(server.url, s, "python", "await page.title()")));
    await stop(server.url, s);
  }
  const langs = await scrapeId(server.url, { url: pageUrl });
  await expectResult(server.url, langs, "python", "await page.title()");
  await interact(server.url, langs, { code: "agent-browser get title", language: "bash" });
  const pyWarm: number[] = [];
  const bashWarm: number[] = [];
  for (let i = 0; i < RUNS * 5; i++) {
    pyWarm.push(await time(() => expectResult(server.url, langs, "python", "await page.title()")));
  }
  for (let i = 0; i < RUNS * 2; i++) {
    bashWarm.push(
      await time(() => expectResult(server.url, langs, "bash", "agent-browser get title", "\n")),
    );
  }
  await stop(server.url, langs);
  await server.close();

  // Memory: all processes under this one with K live sessions, minus with none.
  const mem = await startTestServer({ BROWSER_POOL_SIZE: "0", MAX_BROWSER_SESSIONS: "64" });
  await scrapeId(mem.url, { url: pageUrl }); // starts the shared scrape browser
  await sleep(1000);
  const before = pssBytes(descendants(process.pid));
  const K = 5;
  const ids: string[] = [];
  for (let i = 0; i < K; i++) {
    const s = await scrapeId(mem.url, { url: pageUrl });
    await interact(mem.url, s, { code: "await page.title()" });
    ids.push(s);
  }
  await sleep(2000);
  const withNode = pssBytes(descendants(process.pid));
  const perSession = (withNode - before) / K;
  for (const s of ids) await expectResult(mem.url, s, "python", "await page.title()");
  await sleep(2000);
  const pythonExtra = (pssBytes(descendants(process.pid)) - withNode) / K;
  for (const s of ids) await stop(mem.url, s);
  await mem.close();
  await site.close();

  const b = median(baseline);
  const f = median(first);
  console.log("");
  line("baseline: new page + goto + title (running browser), p50", `${b.toFixed(1)} ms`);
  line(
    "first interact after a scrape (create + restore + title), p50",
    `${f.toFixed(1)} ms`,
    `${(f / b).toFixed(2)}x baseline (target <= 1.2x)`,
  );
  line(
    "warm interact round-trip of page.title() over HTTP, p50",
    `${median(warm).toFixed(1)} ms`,
    "(target <= 5 ms)",
  );
  line(
    "memory per live session (PSS of all its processes)",
    `${(perSession / 2 ** 20).toFixed(0)} MB`,
    `(target <= 150 MB; ${Math.floor((24 * 2 ** 30) / perSession)} fit in 24 GB)`,
  );
  line("DELETE, p50", `${median(del).toFixed(1)} ms`);
  line(
    "python: first call on a live session (start + connect), p50",
    `${median(pyFirst).toFixed(1)} ms`,
    "(target <= 500 ms)",
  );
  line(
    "python: warm round trip of await page.title() over HTTP, p50",
    `${median(pyWarm).toFixed(1)} ms`,
    "(target <= 10 ms)",
  );
  line(
    "bash: warm round trip of agent-browser get title, p50",
    `${median(bashWarm).toFixed(1)} ms`,
    "(target <= 100 ms)",
  );
  line(
    "python: extra memory once python ran in a session (PSS)",
    `${(pythonExtra / 2 ** 20).toFixed(0)} MB`,
    "(target <= 60 MB)",
  );
}

/** One interact call that must print or return the fixture's title. */
async function expectResult(url: string, id: string, language: string, code: string, end = "") {
  const res = await interact(url, id, { code, language });
  if (res.body.result !== `Fixture Home${end}`)
    throw new Error(`${language}: ${JSON.stringify(res.body)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
