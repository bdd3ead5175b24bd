// Live view figures: delay from a DOM change in the session's page to the viewer's WebSocket
// receiving the new frame, bytes per second per viewer (idle and animating), and the CPU the
// session's Chromium spends with 0, 1 and 3 viewers. Prints figures; asserts nothing.
//   npm run bench:liveview
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import WebSocket from "ws";
import { decodeFrame } from "../src/liveview/protocol.js";
import {
  CLOCK_TICKS_PER_SECOND,
  descendants,
  processTable,
} from "../src/processes/process-table.js";
import { startSessionBrowser } from "../test/helpers/liveview.js";
import { startTestServer } from "../test/helpers/server.js";

const SAMPLES = 30;
const WINDOW_MS = 5000;

// A page with text and a box, like an ordinary site; the animation moves the box and recolours.
const PAGE = `<!doctype html><html><head><title>Bench page</title><style>
body{font:16px/1.5 sans-serif;margin:40px;color:#222}
#box{position:absolute;left:0;top:300px;width:160px;height:100px;background:#3a7}
</style></head><body><h1>Live view benchmark</h1>
${"<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.</p>".repeat(6)}
<div id="box"></div></body></html>`;

const ANIMATE = `(() => {
  const box = document.getElementById("box");
  window.__stop = false;
  const step = (t) => {
    box.style.left = (200 + 300 * Math.sin(t / 400)) + "px";
    box.style.background = "hsl(" + ((t / 10) % 360) + ",60%,45%)";
    if (!window.__stop) requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
})()`;

interface Client {
  bytes: number;
  frames: number;
  lastSeq: number;
  waitFrame(afterSeq: number): Promise<number>;
  close(): void;
}

async function connect(url: string): Promise<Client> {
  const ws = new WebSocket(url.replace(/^http/, "ws") + "/ws");
  let waiter: { after: number; resolve: (t: number) => void } | undefined;
  const c: Client = {
    bytes: 0,
    frames: 0,
    lastSeq: 0,
    waitFrame: (after) => new Promise((resolve) => (waiter = { after, resolve })),
    close: () => ws.close(),
  };
  ws.on("message", (data: Buffer, binary) => {
    c.bytes += data.length;
    if (!binary) return;
    const at = performance.now();
    c.frames++;
    c.lastSeq = decodeFrame(data).header.seq;
    if (waiter && c.lastSeq > waiter.after) {
      waiter.resolve(at);
      waiter = undefined;
    }
  });
  await new Promise<void>((resolve, reject) => ws.once("open", resolve).once("error", reject));
  return c;
}

/**
 * CPU seconds used so far by a browser and every process below it (helpers, renderers); the
 * tree rather than the process group, which for a jailed browser holds only bubblewrap.
 */
function treeCpuSeconds(pid: number): number {
  const table = processTable();
  const ticks = [pid, ...descendants(pid, table)].map((p) => table.get(p)?.cpuTicks ?? 0);
  return ticks.reduce((a, b) => a + b, 0) / CLOCK_TICKS_PER_SECOND;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p * xs.length)]!;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB/s`;

async function main() {
  const site = http.createServer((_req, res) => res.end(PAGE));
  await new Promise<void>((r) => site.listen(0, "127.0.0.1", r));
  const siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
  const server = await startTestServer({ ALLOW_PRIVATE_NETWORK: "true" });
  // A real browser session, driven over its cdpUrl as a user's Playwright would.
  const session = await startSessionBrowser(server);
  const { page, urls } = session;
  // The session's Chromium, whose CPU watching costs.
  const proc = server.services.sessions.list().find((s) => s.id === session.id)!.resources.proc;
  await page.goto(siteUrl);

  console.log(`live view benchmark  ${new Date().toISOString().slice(0, 10)}`);
  console.log(
    `machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.versions.node}`,
  );
  console.log("settings: defaults (quality 60, max 10 fps, maxWidth 1280); page 1280 px wide\n");

  // 1. DOM change -> frame on the viewer's socket.
  const viewer = await connect(urls.liveViewUrl);
  await sleep(500);
  const delays: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    await sleep(250); // idle between changes, as when code clicks and waits
    const seq = viewer.lastSeq;
    const got = viewer.waitFrame(seq);
    const t0 = performance.now();
    await page.evaluate(`document.body.style.background = "hsl(${(i * 47) % 360}, 40%, 85%)"`);
    delays.push((await got) - t0);
  }
  console.log(
    `change -> frame delay (${SAMPLES} samples): p50 ${pct(delays, 0.5).toFixed(1)} ms, ` +
      `p90 ${pct(delays, 0.9).toFixed(1)} ms, min ${Math.min(...delays).toFixed(1)} ms, ` +
      `max ${Math.max(...delays).toFixed(1)} ms`,
  );

  // 2. Bytes per second per viewer, idle then animating.
  await sleep(1000);
  let b0 = viewer.bytes;
  let f0 = viewer.frames;
  await sleep(WINDOW_MS);
  const idleRate = ((viewer.bytes - b0) * 1000) / WINDOW_MS;
  console.log(
    `idle page:      ${kb(idleRate)} per viewer, ${viewer.frames - f0} frames in ${WINDOW_MS / 1000} s`,
  );

  await page.evaluate(ANIMATE);
  await sleep(500);
  b0 = viewer.bytes;
  f0 = viewer.frames;
  await sleep(WINDOW_MS);
  const animRate = ((viewer.bytes - b0) * 1000) / WINDOW_MS;
  const fps = ((viewer.frames - f0) * 1000) / WINDOW_MS;
  console.log(`animating page: ${kb(animRate)} per viewer, ${fps.toFixed(1)} frames/s`);
  viewer.close();

  // 3. What watching costs the session's browser while the page animates.
  for (const count of [0, 1, 3]) {
    const clients = await Promise.all(
      Array.from({ length: count }, () => connect(urls.liveViewUrl)),
    );
    await sleep(1000);
    const c0 = treeCpuSeconds(proc.pid);
    await sleep(WINDOW_MS);
    const cpu = ((treeCpuSeconds(proc.pid) - c0) * 100000) / WINDOW_MS;
    const each = clients.map((c) => c.frames);
    console.log(
      `session Chromium CPU while animating, ${count} viewer(s): ${cpu.toFixed(0)}% of one core` +
        (count ? ` (frames per viewer so far: ${each.join(", ")})` : ""),
    );
    for (const c of clients) c.close();
    await sleep(500);
  }
  await page.evaluate("window.__stop = true");

  await session.close();
  await server.close();
  site.close();
}

await main();
