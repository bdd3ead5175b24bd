// npm run bench:interact: first-interact latency against a raw Playwright baseline (after a pause,
// back to back, four loops at once), a burst of first interacts fired together with /health
// polled meanwhile, warm round-trip, memory per live session and DELETE latency; then python's
// and bash's first call, warm round trip and python's extra memory. Prints figures; asserts
// nothing.
//   BENCH_RUNS=20         cycles per loop (and the sample size of the other latency figures)
//   BENCH_ONLY=a,b        only these sections: first, backtoback, concurrent, burst, warm,
//                         langs, memory (default: all)
//   BENCH_BURST=20        first interacts fired at once in the burst
//   BENCH_SESSIONS=16     live sessions open for the memory figure
//   BENCH_POOL_SIZE=n     the server's BROWSER_POOL_SIZE (default: the server's own default)
//   BENCH_SERVER_CHROMIUM=path   the server's CHROMIUM_PATH (default: what it finds itself)
//   BENCH_BASELINE_CHROMIUM=path the raw baseline's Chromium (default: the fastest build found)
import os from "node:os";
import { loadConfig } from "../src/config/config.js";
import { startFixtureSite } from "../test/helpers/fixture-site.js";
import { interact, scrapeId, stop } from "../test/helpers/interact.js";
import { startTestServer } from "../test/helpers/server.js";
import {
  backToBack,
  burst,
  cycle,
  expectTitle,
  poolStats,
  rawBaseline,
  waitForPool,
} from "./interact-load.js";
import {
  line,
  median,
  ms,
  percentile,
  ratio,
  selectedSections,
  sleep,
  time,
  treePss,
} from "./lib.js";

const SECTIONS = ["first", "backtoback", "concurrent", "burst", "warm", "langs", "memory"] as const;
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const BURST = Number(process.env.BENCH_BURST ?? 20);
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 16);
const LOOPS = 4;
const POOL = process.env.BENCH_POOL_SIZE ?? String(loadConfig({}).browserPoolSize);
// High enough that no figure here is a 429 from the server's own session cap. TEAM_MAX_SESSIONS
// only applies with authentication on (it is off here); set anyway in case that changes.
const SERVER_ENV: Record<string, string> = {
  BROWSER_POOL_SIZE: POOL,
  MAX_BROWSER_SESSIONS: "64",
  TEAM_MAX_SESSIONS: "64",
  ...(process.env.BENCH_SERVER_CHROMIUM
    ? { CHROMIUM_PATH: process.env.BENCH_SERVER_CHROMIUM }
    : {}),
};
const MB = 2 ** 20;

async function main() {
  const only = selectedSections(SECTIONS);
  const on = (...names: (typeof SECTIONS)[number][]) => names.some((n) => only.has(n));
  const site = await startFixtureSite();
  const pageUrl = `${site.url}/`;
  const report: (() => void)[] = [];
  console.log(
    `interact benchmark: ${RUNS} runs, ${os.cpus().length} cores, Node ${process.version}, ` +
      `sections: ${[...only].join(",")}`,
  );

  // Baseline: a browser that is already running; new page + goto + title (one loop, and four).
  let b = NaN;
  let b4 = NaN;
  if (on("first", "backtoback", "concurrent")) {
    const raw = await rawBaseline(pageUrl, RUNS, { concurrent: on("concurrent") ? LOOPS : 0 });
    b = median(raw.single);
    console.log(`baseline Chromium: ${raw.executable}`);
    report.push(() => line("baseline: new page + goto + title (running browser), p50", ms(b)));
    if (raw.concurrent.length) {
      b4 = median(raw.concurrent);
      report.push(() => line(`baseline: ${LOOPS} such raw loops at once, p50`, ms(b4)));
    }
  }

  if (on("first", "backtoback", "concurrent", "burst", "warm", "langs")) {
    const server = await startTestServer(SERVER_ENV);
    console.log(
      `server: ${Object.entries(SERVER_ENV)
        .map(([k, v]) => `${k}=${v}`)
        .join(" ")}`,
    );
    const pool = Number(POOL);
    await cycle(server.url, pageUrl); // first sandbox start, first restore: not part of a figure
    /** Runs a loop once the warm pool has settled; its times and the pool's takes meanwhile. */
    const withPool = async (loop: () => Promise<number[]>) => {
      const readyAtStart = await waitForPool(server.url, pool);
      const before = await poolStats(server.url);
      const times = await loop();
      const after = await poolStats(server.url);
      const takes = `${after.hit - before.hit} / ${after.miss - before.miss}`;
      return { times, takes, readyNote: `(warm pool ready at the start: ${readyAtStart})` };
    };
    const progress = (name: string) => console.error(`... ${name}`);

    if (on("first")) {
      progress("first interact after a pause");
      const first: number[] = [];
      const del: number[] = [];
      for (let i = 0; i < RUNS + 2; i++) {
        // The pause lets the warm pool refill, as it would between real users.
        const r = await cycle(server.url, pageUrl, 1500);
        if (i >= 2) {
          first.push(r.first);
          del.push(r.del);
        }
      }
      const f = median(first);
      report.push(() => {
        line(
          "first interact after a scrape (create + restore + title), p50",
          ms(f),
          `${ratio(f, b)} baseline (target <= 1.2x)`,
        );
        line("DELETE, p50", ms(median(del)));
      });
    }

    if (on("backtoback")) {
      progress("back-to-back loop");
      const r = await withPool(() => backToBack(server.url, pageUrl, RUNS));
      const [p50, p90, max] = [median(r.times), percentile(r.times, 90), Math.max(...r.times)];
      report.push(() => {
        const label = `back-to-back first interact, no pause (${RUNS} runs)`;
        line(`${label}, p50`, ms(p50), `${ratio(p50, b)} baseline (target <= 1.2x)`);
        line(`${label}, p90`, ms(p90), `${ratio(p90, b)} baseline`);
        line(`${label}, max`, ms(max), `${ratio(max, b)} baseline (target: none over 3x)`);
        line("back-to-back: warm pool hits / misses", r.takes, r.readyNote);
      });
    }

    if (on("concurrent")) {
      progress(`${LOOPS} back-to-back loops at once`);
      const r = await withPool(() => backToBack(server.url, pageUrl, RUNS, LOOPS));
      const [p50, p90, max] = [median(r.times), percentile(r.times, 90), Math.max(...r.times)];
      report.push(() => {
        const label = `${LOOPS} back-to-back loops at once: first interact`;
        line(
          `${label}, p50`,
          ms(p50),
          `${ratio(p50, b4)} the ${LOOPS}-loop baseline (target <= 1.2x); ` +
            `${ratio(p50, b)} the single-loop one`,
        );
        line(`${label}, p90`, ms(p90), `${ratio(p90, b4)} the ${LOOPS}-loop baseline`);
        line(`${label}, max`, ms(max), `${ratio(max, b4)} the ${LOOPS}-loop baseline`);
        line(`${LOOPS} loops at once: warm pool hits / misses`, r.takes, r.readyNote);
      });
    }

    if (on("burst")) {
      progress(`burst of ${BURST}`);
      const readyAtStart = await waitForPool(server.url, pool);
      const r = await burst(server.url, pageUrl, BURST);
      const done = r.calls.map((c) => c.doneMs);
      const failed = r.calls.filter((c) => !c.ok);
      report.push(() => {
        const label = `burst: ${BURST} first interacts fired at once`;
        line(`${label}, p50`, ms(median(done)), "(target <= 5000 ms)");
        line("burst: first to finish", ms(Math.min(...done)), "(target <= 1500 ms)");
        line("burst: last to finish", ms(Math.max(...done)));
        line(
          "burst: answered with the title",
          `${BURST - failed.length}/${BURST}`,
          `(warm pool ready at the start: ${readyAtStart})`,
        );
        const order = [...r.calls].sort((x, y) => x.doneMs - y.doneMs);
        const marks = order.map(
          (c) => (c.doneMs / 1000).toFixed(1) + (c.ok ? "" : `(${c.status})`),
        );
        console.log(`  completions, s after the start: ${marks.join(" ")}`);
        if (failed[0]) console.log(`  first failure: ${failed[0].status} ${failed[0].error}`);
        line(
          "GET /health every 100 ms during the burst, max",
          ms(r.health.max),
          "(target <= 100 ms)",
        );
        line(
          "GET /health during the burst, p50",
          ms(r.health.p50),
          `(${r.health.times.length} polls, statuses ${statuses(r.health.statuses)}; ` +
            `idle p50 ${ms(r.idleHealth.p50)})`,
        );
      });
    }

    if (on("warm")) {
      progress("warm round trip");
      const id = await scrapeId(server.url, { url: pageUrl });
      await expectTitle(server.url, id);
      // A session in steady use on a server at rest: the refill this session's take started
      // is over (what launches cost others is the burst's and the loops' figure).
      await waitForPool(server.url, pool);
      const warm: number[] = [];
      for (let i = 0; i < RUNS * 5; i++) {
        warm.push(await time(() => interact(server.url, id, { code: "await page.title()" })));
      }
      await stop(server.url, id);
      report.push(() =>
        line(
          "warm interact round-trip of page.title() over HTTP, p50",
          ms(median(warm)),
          "(target <= 5 ms)",
        ),
      );
    }

    if (on("langs")) {
      progress("python and bash");
      const figures = await languages(server.url, pageUrl);
      report.push(figures);
    }
    await server.close();
  }

  if (on("memory")) {
    console.error(`... memory with ${SESSIONS} sessions`);
    report.push(await memory(pageUrl));
  }
  await site.close();

  console.log("");
  for (const print of report) print();
}

/** Python's first call and warm round trip, and bash's, on sessions of the running server. */
async function languages(url: string, pageUrl: string): Promise<() => void> {
  // The first call starts the language's runner in an already live session.
  const pyFirst: number[] = [];
  for (let i = 0; i < Math.max(5, RUNS / 2); i++) {
    const s = await scrapeId(url, { url: pageUrl });
    await interact(url, s, { code: "1" });
    await sleep(500);
    pyFirst.push(await time(() => expectResult(url, s, "python", "await page.title()")));
    await stop(url, s);
  }
  const langs = await scrapeId(url, { url: pageUrl });
  await expectResult(url, langs, "python", "await page.title()");
  await interact(url, langs, { code: "agent-browser get title", language: "bash" });
  const pyWarm: number[] = [];
  const bashWarm: number[] = [];
  for (let i = 0; i < RUNS * 5; i++) {
    pyWarm.push(await time(() => expectResult(url, langs, "python", "await page.title()")));
  }
  for (let i = 0; i < RUNS * 2; i++) {
    bashWarm.push(
      await time(() => expectResult(url, langs, "bash", "agent-browser get title", "\n")),
    );
  }
  await stop(url, langs);
  return () => {
    line(
      "python: first call on a live session (start + connect), p50",
      ms(median(pyFirst)),
      "(target <= 500 ms)",
    );
    line(
      "python: warm round trip of await page.title() over HTTP, p50",
      ms(median(pyWarm)),
      "(target <= 10 ms)",
    );
    line(
      "bash: warm round trip of agent-browser get title, p50",
      ms(median(bashWarm)),
      "(target <= 100 ms)",
    );
  };
}

/**
 * PSS of every process under this one with SESSIONS live node sessions (each had one interact),
 * minus the same with none, per session; then the extra once python ran in some of them.
 */
async function memory(pageUrl: string): Promise<() => void> {
  // No warm pool: its idle browsers would count as "sessions" here.
  const mem = await startTestServer({ ...SERVER_ENV, BROWSER_POOL_SIZE: "0" });
  await scrapeId(mem.url, { url: pageUrl }); // starts the shared scrape browser
  await sleep(1000);
  const before = treePss();
  const ids: string[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const s = await scrapeId(mem.url, { url: pageUrl });
    await expectTitle(mem.url, s);
    ids.push(s);
  }
  await sleep(2000);
  const withNode = treePss();
  const perSession = (withNode - before) / SESSIONS;
  const py = ids.slice(0, Math.min(5, SESSIONS));
  for (const s of py) await expectResult(mem.url, s, "python", "await page.title()");
  await sleep(2000);
  const pythonExtra = (treePss() - withNode) / py.length;
  for (const s of ids) await stop(mem.url, s);
  await mem.close();
  return () => {
    line(
      `memory per live session, ${SESSIONS} open (PSS of all its processes)`,
      `${(perSession / MB).toFixed(0)} MB`,
      `(target <= 150 MB, stretch <= 120 MB; ${Math.floor((24 * 2 ** 30) / perSession)} fit in 24 GB)`,
    );
    line(
      `python: extra memory once python ran in a session (PSS, ${py.length} sessions)`,
      `${(pythonExtra / MB).toFixed(0)} MB`,
      "(target <= 60 MB)",
    );
  };
}

/** "200x41" style count of each status. */
function statuses(m: Map<number, number>): string {
  return [...m].map(([s, n]) => `${s}x${n}`).join(" ");
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
