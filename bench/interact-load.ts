// Load shapes for bench:interact: first interacts back to back, several such loops at once, a
// burst of first interacts fired together, and the raw Playwright loops they are compared with.
import { chromium } from "playwright-core";
import { CHROMIUM_FLAGS } from "../src/chromium/flags.js";
import { findChromium } from "../src/chromium/find-chromium.js";
import { interact, scrapeId, stop } from "../test/helpers/interact.js";
import { atOnce, median, sleep, time } from "./lib.js";

const TITLE = "Fixture Home";

/** One user's turn: scrape, first interact (timed, must see the title), DELETE (timed). */
export async function cycle(serverUrl: string, pageUrl: string, pauseMs = 0) {
  const id = await scrapeId(serverUrl, { url: pageUrl });
  if (pauseMs) await sleep(pauseMs);
  const first = await time(() => expectTitle(serverUrl, id));
  const del = await time(() => stop(serverUrl, id));
  return { first, del };
}

/** A first interact on scrape id that must return the fixture's title. */
export async function expectTitle(serverUrl: string, id: string): Promise<void> {
  const res = await interact(serverUrl, id, { code: "await page.title()" });
  if (res.body?.result !== TITLE) {
    throw new Error(`interact ${id}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  }
}

/** `loops` loops at once, each `runs` cycles with no pause; first-interact times of all. */
export async function backToBack(serverUrl: string, pageUrl: string, runs: number, loops = 1) {
  const times = await atOnce(loops, async () => {
    const out: number[] = [];
    for (let i = 0; i < runs; i++) out.push((await cycle(serverUrl, pageUrl)).first);
    return out;
  });
  return times.flat();
}

/** Raw Playwright on a browser that is already running: new page + goto + title + close. */
export async function rawBaseline(pageUrl: string, runs: number, opts: { concurrent: number }) {
  const executable = process.env.BENCH_BASELINE_CHROMIUM || findChromium(undefined);
  const browser = await chromium.launch({ executablePath: executable, args: [...CHROMIUM_FLAGS] });
  try {
    const ctx = await browser.newContext();
    const once = () =>
      time(async () => {
        const page = await ctx.newPage();
        await page.goto(pageUrl);
        await page.title();
        await page.close();
      });
    const loop = async (n: number, warmup: number) => {
      const out: number[] = [];
      for (let i = 0; i < n + warmup; i++) {
        const t = await once();
        if (i >= warmup) out.push(t);
      }
      return out;
    };
    const single = await loop(runs, 3);
    const concurrent = opts.concurrent
      ? (await atOnce(opts.concurrent, () => loop(runs, 1))).flat()
      : [];
    return { executable, single, concurrent };
  } finally {
    await browser.close();
  }
}

/** One first interact of the burst: when it finished (ms after the start) and how. */
export interface BurstCall {
  doneMs: number;
  status: number;
  ok: boolean;
  error?: string;
}

/**
 * `size` fresh scrapes (not timed), then a first interact on each, all fired at the same moment;
 * GET /health is polled every 100 ms meanwhile. Every session is stopped afterwards.
 */
export async function burst(serverUrl: string, pageUrl: string, size: number) {
  const ids: string[] = [];
  let started = 0;
  await atOnce(4, async () => {
    while (started++ < size) ids.push(await scrapeId(serverUrl, { url: pageUrl }));
  });
  const idleHealth = await pollHealth(serverUrl, () => sleep(1000));
  let calls: BurstCall[] = [];
  const start = performance.now();
  const health = await pollHealth(serverUrl, async () => {
    calls = await Promise.all(
      ids.map(async (id) => {
        try {
          const res = await interact(serverUrl, id, { code: "await page.title()" });
          const ok = res.body?.result === TITLE;
          const error = ok ? undefined : JSON.stringify(res.body).slice(0, 200);
          return { doneMs: performance.now() - start, status: res.status, ok, error };
        } catch (err) {
          const error = (err as Error).message;
          return { doneMs: performance.now() - start, status: 0, ok: false, error };
        }
      }),
    );
  });
  await Promise.all(ids.map((id) => stop(serverUrl, id).catch(() => undefined)));
  return { calls, health, idleHealth };
}

/** Response times of GET /health, one request every 100 ms for as long as `during` runs. */
export async function pollHealth(serverUrl: string, during: () => Promise<unknown>) {
  const times: number[] = [];
  const statuses = new Map<number, number>();
  let done = false;
  const poller = (async () => {
    while (!done) {
      const t = performance.now();
      const status = await fetch(`${serverUrl}/health`)
        .then(async (r) => (await r.arrayBuffer(), r.status))
        .catch(() => 0);
      const took = performance.now() - t;
      times.push(took);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (!done) await sleep(Math.max(0, 100 - took));
    }
  })();
  try {
    await during();
  } finally {
    done = true;
    await poller;
  }
  return { times, statuses, p50: median(times), max: Math.max(...times) };
}

/** The warm pool as /metrics reports it: ready now, and takes that hit or missed so far. */
export async function poolStats(serverUrl: string) {
  const text = await (await fetch(`${serverUrl}/metrics`)).text();
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  return {
    ready: num(/^fcis_warm_pool_ready (\d+)/m),
    hit: num(/^fcis_warm_pool_takes_total\{result="hit"\} (\d+)/m),
    miss: num(/^fcis_warm_pool_takes_total\{result="miss"\} (\d+)/m),
  };
}

/**
 * Waits (up to 30 s) until the warm pool has settled, as after a quiet spell: `size` ready, or
 * at least one ready and none launching (a pool that sizes itself to demand may keep fewer).
 * Returns how many are ready.
 */
export async function waitForPool(serverUrl: string, size: number): Promise<number> {
  const end = Date.now() + 30_000;
  let ready = 0;
  while (size > 0 && Date.now() < end) {
    const body = (await (await fetch(`${serverUrl}/health`)).json()) as {
      checks?: { pool?: { ready?: number; launching?: number } };
    };
    const pool = body.checks?.pool ?? {};
    ready = pool.ready ?? 0;
    if (ready >= size || (ready > 0 && pool.launching === 0)) return ready;
    await sleep(100);
  }
  return ready;
}
