/**
 * POST /v2/scrape against raw Playwright doing the same page loads, on the same machine, in the
 * same run. Prints figures; asserts nothing.
 *
 *   npm run bench:scrape            (BENCH_RUNS=40 BENCH_PAGES=96 to change the sample sizes)
 *
 * Both sides load the fixture site's home page (JS-rendered text, an image, a favicon) with a
 * unique query string, so the server's cache never answers: every request is a real page load.
 * Raw Playwright: a running Chromium started with the server's flags, then per page a new context,
 * a new page, goto, content() and close, which is the least a scrape can do.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { CHROMIUM_FLAGS } from "../src/chromium/flags.js";
import { findChromium } from "../src/chromium/find-chromium.js";
import { loadConfig } from "../src/config/config.js";
import { startServer } from "../src/server.js";
import { startFixtureSite } from "../test/helpers/fixture-site.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const WARMUP = 5;
const CONCURRENCY = 8;
const PAGES = Number(process.env.BENCH_PAGES ?? 80);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Pages per second for `total` calls of fn with `concurrency` in flight. */
async function throughput(total: number, concurrency: number, fn: (i: number) => Promise<unknown>) {
  let next = 0;
  const worker = async () => {
    while (next < total) await fn(next++);
  };
  const elapsed = await timed(() => Promise.all(Array.from({ length: concurrency }, worker)));
  return total / (elapsed / 1000);
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "fc-bench-"));
  const site = await startFixtureSite();
  const server = await startServer(
    loadConfig({
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "silent",
      DATA_DIR: dataDir,
      // Interact's warm browsers are not part of a scrape; keep them from taking CPU here.
      BROWSER_POOL_SIZE: "0",
    }),
  );
  // Raw Playwright: its own launch (a pipe, no jail, no proxy), the fastest way it knows.
  const browser: Browser = await chromium.launch({
    executablePath: findChromium(undefined),
    args: [...CHROMIUM_FLAGS],
  });
  let n = 0;
  const pageUrl = () => `${site.url}/?r=${n++}`;

  const viaServer = async () => {
    const res = await fetch(`${server.url}/v2/scrape`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: pageUrl(), formats: ["markdown"] }),
    });
    const body = (await res.json()) as { success: boolean; data?: { markdown?: string } };
    if (!body.success || !body.data?.markdown?.includes("Rendered by JavaScript")) {
      throw new Error(`scrape failed: ${JSON.stringify(body).slice(0, 300)}`);
    }
  };
  const raw = async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(pageUrl());
      await page.content();
    } finally {
      await context.close();
    }
  };

  try {
    for (let i = 0; i < WARMUP; i++) {
      await raw();
      await viaServer();
    }
    // Alternate the two so that load from anything else on the machine hits both alike.
    const rawTimes: number[] = [];
    const serverTimes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      if (i % 2 === 0) {
        rawTimes.push(await timed(raw));
        serverTimes.push(await timed(viaServer));
      } else {
        serverTimes.push(await timed(viaServer));
        rawTimes.push(await timed(raw));
      }
    }
    const rawTput: number[] = [];
    const serverTput: number[] = [];
    for (let round = 0; round < 2; round++) {
      rawTput.push(await throughput(PAGES, CONCURRENCY, raw));
      serverTput.push(await throughput(PAGES, CONCURRENCY, viaServer));
    }

    const p50Raw = median(rawTimes);
    const p50Server = median(serverTimes);
    const tRaw = Math.max(...rawTput);
    const tServer = Math.max(...serverTput);
    const cpus = os.cpus().length;
    const memGb = Math.round(os.totalmem() / 2 ** 30);
    console.log(`scrape benchmark, ${new Date().toISOString().slice(0, 10)}`);
    console.log(`machine: ${cpus} cores, ${memGb} GB, Node ${process.versions.node}`);
    console.log(`Chromium (raw and server alike): ${findChromium(undefined)}`);
    console.log(
      `runs: ${RUNS} at concurrency 1 after ${WARMUP} warm-up; ${PAGES} pages at ${CONCURRENCY}`,
    );
    console.log("");
    console.log(
      `p50 latency, concurrency 1   raw ${p50Raw.toFixed(0)} ms   POST /v2/scrape ${p50Server.toFixed(0)} ms   ratio ${(p50Server / p50Raw).toFixed(2)} (target <= 1.30)`,
    );
    console.log(
      `throughput, concurrency ${CONCURRENCY}    raw ${tRaw.toFixed(1)} pages/s   POST /v2/scrape ${tServer.toFixed(1)} pages/s   ratio ${(tServer / tRaw).toFixed(2)} (target >= 0.90)`,
    );
  } finally {
    await browser.close().catch(() => {});
    await server.close();
    await site.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
