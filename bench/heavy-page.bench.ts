/**
 * One heavy scrape against a server started as users start it (its own process, under tsx),
 * while GET /health/live is sent every 100 ms: how long liveness answers take during the scrape
 * (the event loop's lag as a client sees it), how long the scrape takes, and how long the page
 * takes to convert. Prints figures; asserts nothing.
 *
 *   npm run bench:heavy-page     (BENCH_ELEMENTS=300000 by default: about 8.4 MB of HTML)
 *
 * BENCH_SERVER_DIR runs another checkout's src/main.ts instead of this one's (to compare with the
 * server before a change); the fixture site and the figures stay this checkout's.
 * BENCH_STORE_IN_CACHE=false scrapes with storeInCache: false, leaving out the cache write.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PageTransforms } from "../src/scrape/transforms/page-transforms.js";
import { toMarkdown } from "../src/scrape/transforms/markdown.js";
import { startFixtureSite } from "../test/helpers/fixture-site.js";
import { freePort } from "../test/helpers/ports.js";
import { line, median, ms, percentile, sleep, time } from "./lib.js";

const ELEMENTS = Number(process.env.BENCH_ELEMENTS ?? 300_000);
const SERVER_DIR = path.resolve(process.env.BENCH_SERVER_DIR ?? ".");
const STORE_IN_CACHE = process.env.BENCH_STORE_IN_CACHE !== "false";

/** Sends GET /health/live every 100 ms, each on its own; records each answer's latency. */
function pollLiveness(url: string) {
  const latencies: number[] = [];
  const pending = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const started = performance.now();
    const p = fetch(`${url}/health/live`)
      .then((res) => res.arrayBuffer())
      .then(() => void latencies.push(performance.now() - started))
      .finally(() => pending.delete(p));
    pending.add(p);
  }, 100);
  return async () => {
    clearInterval(timer);
    await Promise.all(pending);
    return latencies;
  };
}

async function scrape(url: string, target: string): Promise<string> {
  const res = await fetch(`${url}/v2/scrape`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ url: target, timeout: 300_000, storeInCache: STORE_IN_CACHE }),
  });
  const body = (await res.json()) as { success: boolean; data?: { markdown?: string } };
  if (!body.success) throw new Error(`scrape failed: ${JSON.stringify(body).slice(0, 300)}`);
  return body.data!.markdown!;
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "fc-bench-"));
  const site = await startFixtureSite();
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: SERVER_DIR,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      BROWSER_POOL_SIZE: "0",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let up = false; !up; await sleep(100)) {
      up = await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      );
    }
    // The scrape browser and the first transform worker start here, not in the figures.
    await scrape(url, `${site.url}/many-elements?n=10`);
    const idle: number[] = [];
    for (let i = 0; i < 20; i++) idle.push(await time(() => fetch(`${url}/health/live`)));

    const stop = pollLiveness(url);
    let markdown = "";
    const scrapeMs = await time(async () => {
      markdown = await scrape(url, `${site.url}/many-elements?n=${ELEMENTS}`);
    });
    const lags = await stop();
    if (!markdown.includes(`Item number ${ELEMENTS - 1}`)) throw new Error("markdown incomplete");

    // The conversion alone, on this process: turndown on the event loop, then in a worker.
    const html = await (await fetch(`${site.url}/many-elements?n=${ELEMENTS}`)).text();
    const onLoop = await time(async () => toMarkdown(html, true));
    const transforms = new PageTransforms({ workers: 1, memoryMb: 1024, timeoutMs: 300_000 });
    const input = {
      page: { title: "", metas: [], cleanHtml: html },
      markdown: { removeBase64Images: true },
    };
    await transforms.run(
      { ...input, page: { ...input.page, cleanHtml: "<p>warm</p>" } },
      new AbortController().signal,
    );
    const inWorker = await time(() => transforms.run(input, new AbortController().signal));
    await transforms.close();

    console.log(`heavy page benchmark, ${new Date().toISOString().slice(0, 10)}`);
    console.log(
      `machine: ${os.cpus().length} cores, Node ${process.versions.node}, load ${os.loadavg()[0]!.toFixed(1)}`,
    );
    console.log(
      `server: ${SERVER_DIR}/src/main.ts; page: ${ELEMENTS} elements, ${(html.length / 2 ** 20).toFixed(1)} MB`,
    );
    console.log("");
    line("GET /health/live, idle, p50", ms(median(idle)));
    line(`POST /v2/scrape of the heavy page (storeInCache: ${STORE_IN_CACHE})`, ms(scrapeMs));
    line(`GET /health/live during it: answers`, String(lags.length));
    line("GET /health/live during it: p50", ms(median(lags)));
    line("GET /health/live during it: p99", ms(percentile(lags, 99)));
    line("GET /health/live during it: max", ms(Math.max(...lags)));
    line("conversion of the page's HTML, turndown on this event loop", ms(onLoop));
    line("conversion of the page's HTML, in a transform worker", ms(inWorker));
  } finally {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
    await site.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
