// Recording figures: the CPU a recorded browser session costs against the same session
// unrecorded (the server, the session's browser, its sandbox and ffmpeg: every process of this
// bench, from /proc), on a page that animates and on one that does not; and the disk a
// recorded minute takes. Prints figures; asserts nothing.
//   npm run bench:recording        (BENCH_SECONDS=30 to measure longer; default 20)
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import {
  CLOCK_TICKS_PER_SECOND,
  commandLine,
  descendants,
  processTable,
} from "../src/processes/process-table.js";
import { startTestServer } from "../test/helpers/server.js";
import { teamClient } from "../test/helpers/team-client.js";
import { line, sleep } from "./lib.js";

const WINDOW_MS = Number(process.env.BENCH_SECONDS ?? 20) * 1000;
/** Target: recording adds at most this much CPU over the same session unrecorded. */
const TARGET_EXTRA = 0.15;

const TEXT = "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.</p>";
const PAGES: Record<string, string> = {
  // An ordinary page that, once loaded, does not change.
  "/still": `<!doctype html><html><head><title>Still</title><style>
body{font:16px/1.5 sans-serif;margin:40px;color:#222}</style></head>
<body><h1>A page that does not change</h1>${TEXT.repeat(12)}</body></html>`,
  // The same text with a box that moves and changes colour on every animation frame.
  "/animated": `<!doctype html><html><head><title>Animated</title><style>
body{font:16px/1.5 sans-serif;margin:40px;color:#222}
#box{position:absolute;left:0;top:300px;width:160px;height:100px;background:#3a7}
</style></head><body><h1>A page that animates</h1>${TEXT.repeat(12)}<div id="box"></div>
<script>const box = document.getElementById("box");
const step = (t) => { box.style.left = (200 + 300 * Math.sin(t / 400)) + "px";
box.style.background = "hsl(" + ((t / 10) % 360) + ",60%,45%)"; requestAnimationFrame(step); };
requestAnimationFrame(step);</script></body></html>`,
};

/** CPU seconds so far of this process (the server) and every process below it. */
function cpuSeconds(): { all: number; ffmpeg: number } {
  const table = processTable();
  let all = 0;
  let ffmpeg = 0;
  for (const pid of [process.pid, ...descendants(process.pid, table)]) {
    const ticks = table.get(pid)?.cpuTicks ?? 0;
    all += ticks;
    if (/(^|\/)ffmpeg\b/.test(commandLine(pid)?.split("\0")[0] ?? "")) ffmpeg += ticks;
  }
  return { all: all / CLOCK_TICKS_PER_SECOND, ffmpeg: ffmpeg / CLOCK_TICKS_PER_SECOND };
}

async function main() {
  const site = http.createServer((req, res) => {
    const page = PAGES[req.url ?? ""];
    res.writeHead(page ? 200 : 404, { "content-type": "text/html" }).end(page ?? "");
  });
  await new Promise<void>((r) => site.listen(0, "127.0.0.1", r));
  const siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  const server = await startTestServer({ ALLOW_PRIVATE_NETWORK: "true" });
  const client = teamClient(server);

  console.log(`recording benchmark  ${new Date().toISOString().slice(0, 10)}`);
  console.log(
    `machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB, ` +
      `Node ${process.versions.node}, load ${os.loadavg()[0]!.toFixed(1)}`,
  );
  console.log(
    `window: ${WINDOW_MS / 1000} s per case; CPU of the server, the session's browser and ` +
      "sandbox, and ffmpeg, in % of one core\n",
  );

  const results: Record<string, { cpu: number; ffmpeg: number; bytesPerMin?: number }> = {};
  for (const path of ["/still", "/animated"]) {
    for (const recorded of [false, true]) {
      const made = await client.browser.create({ recordSession: recorded, ttl: 600 });
      if (made.status !== 200) throw new Error(`create: ${JSON.stringify(made.body)}`);
      const id: string = made.body.id;
      await client.browser.node(id, `await page.goto(${JSON.stringify(siteUrl + path)}); "ok"`);
      await sleep(2000); // the page settles; the recording's first page is under way
      const c0 = cpuSeconds();
      const t0 = Date.now();
      await sleep(WINDOW_MS);
      const c1 = cpuSeconds();
      const seconds = (Date.now() - t0) / 1000;
      await client.browser.stop(id);
      const key = `${path.slice(1)}, ${recorded ? "recorded" : "unrecorded"}`;
      results[key] = {
        cpu: ((c1.all - c0.all) / seconds) * 100,
        ffmpeg: ((c1.ffmpeg - c0.ffmpeg) / seconds) * 100,
      };
      if (recorded) {
        const replay = await server.services.recordings.replay(id);
        const page = replay?.pages.find((p) => p.pageUrl === siteUrl + path);
        if (page) {
          const minutes = (page.endMs - page.startMs) / 60_000;
          results[key]!.bytesPerMin = page.bytes / minutes;
        }
      }
      const r = results[key]!;
      line(
        `CPU, ${key}`,
        `${r.cpu.toFixed(1)} %`,
        recorded ? `(ffmpeg ${r.ffmpeg.toFixed(1)} %)` : "",
      );
    }
  }

  console.log("");
  for (const path of ["still", "animated"]) {
    const base = results[`${path}, unrecorded`]!;
    const rec = results[`${path}, recorded`]!;
    const extra = rec.cpu - base.cpu;
    const relative = base.cpu > 0 ? extra / base.cpu : Infinity;
    const verdict = relative <= TARGET_EXTRA ? "within" : "MISSES";
    line(
      `extra CPU for recording, ${path} page`,
      `${extra.toFixed(1)} pts`,
      `${(relative * 100).toFixed(0)} % of unrecorded: ${verdict} the ${TARGET_EXTRA * 100} % target`,
    );
    if (rec.bytesPerMin !== undefined) {
      line(`disk per recorded minute, ${path} page`, `${(rec.bytesPerMin / 1024).toFixed(0)} KB`);
    }
  }

  await server.close();
  site.close();
}

await main();
