// npm run bench:agent: what prompt mode's model sees, against agent-browser's `snapshot -i` on
// the same pages (size, whether the answer text and the needed element's ref are there), and
// the agent's own time per step besides the model call (act, settle, snapshot). Prints figures;
// asserts nothing.
import { execFileSync } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { PageDriver } from "../src/agent/page-driver.js";
import { CHARS_PER_TOKEN } from "../src/agent/snapshot/budget.js";
import { takeSnapshot } from "../src/agent/snapshot/page-snapshot.js";
import { RefTable } from "../src/agent/snapshot/refs.js";
import { CHROMIUM_FLAGS } from "../src/chromium/flags.js";
import { findChromium } from "../src/chromium/find-chromium.js";
import { FRAMES, PAGES } from "./agent/pages.js";
import { line, median, percentile } from "./lib.js";

const BUDGET_TOKENS = Number(process.env.AGENT_SNAPSHOT_TOKENS ?? 6000);
const STEPS = Number(process.env.BENCH_RUNS ?? 40);
const CDP_PORT = 9400 + Math.floor(Math.random() * 500);
const AGENT_BROWSER = path.resolve("node_modules/agent-browser/bin/agent-browser-linux-x64");

const tokens = (s: string) => Math.round(s.length / CHARS_PER_TOKEN);
const norm = (s: string) => s.replace(/\s+/g, " ");
const hasRef = (snapshot: string, target: string) =>
  snapshot.split("\n").some((l) => l.includes(target) && /ref=e\d+/.test(l));

function agentBrowserSnapshot(): string {
  return execFileSync(AGENT_BROWSER, ["--cdp", String(CDP_PORT), "snapshot", "-i"], {
    env: {
      ...process.env,
      AGENT_BROWSER_NO_VERSION_CHECK: "1",
      AGENT_BROWSER_SESSION: `bench-${CDP_PORT}`,
    },
    timeout: 30_000,
  }).toString();
}

async function serve(): Promise<{ url: string; other: string; close(): void }> {
  let other = "";
  const server = http.createServer((req, res) => {
    const p = new URL(req.url ?? "/", "http://x").pathname;
    const page = PAGES.find((x) => x.path === p);
    const html = page ? page.html({ other }) : FRAMES[p];
    if (html === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  // Another origin on the same server: the host name differs.
  other = `http://localhost:${port}`;
  return { url: `http://127.0.0.1:${port}`, other, close: () => server.close() };
}

async function main() {
  const site = await serve();
  const browser = await chromium.launch({
    executablePath: findChromium(undefined),
    args: [...CHROMIUM_FLAGS, `--remote-debugging-port=${CDP_PORT}`],
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  console.log(
    `agent benchmark: ${PAGES.length} pages, budget ${BUDGET_TOKENS} tokens, ${os.cpus().length} cores, Node ${process.version}`,
  );
  console.log(
    `${"page".padEnd(14)} ${"ours tok".padStart(8)} ${"ab -i tok".padStart(9)}  answer ours/ab   ref ours/ab`,
  );
  let answerOurs = 0;
  let refOurs = 0;
  let withinBudget = 0;
  let answerAb = 0;
  let refAb = 0;
  const ratios: number[] = [];
  for (const p of PAGES) {
    await page.goto(site.url + p.path, { waitUntil: "load" });
    await page.waitForTimeout(100);
    const ours = (
      await takeSnapshot(page, new RefTable(), { budgetTokens: BUDGET_TOKENS, timeoutMs: 30_000 })
    ).text;
    const ab = agentBrowserSnapshot();
    const a = [norm(ours).includes(p.answer), norm(ab).includes(p.answer)];
    const r = [hasRef(ours, p.target), hasRef(ab, p.target)];
    answerOurs += +a[0]!;
    answerAb += +a[1]!;
    refOurs += +r[0]!;
    refAb += +r[1]!;
    if (tokens(ours) <= BUDGET_TOKENS) withinBudget++;
    ratios.push(tokens(ours) / Math.max(1, tokens(ab)));
    const yn = (b: boolean) => (b ? "yes" : "NO ");
    console.log(
      `${p.path.padEnd(14)} ${String(tokens(ours)).padStart(8)} ${String(tokens(ab)).padStart(9)}  ${yn(a[0]!)} / ${yn(a[1]!)}       ${yn(r[0]!)} / ${yn(r[1]!)}`,
    );
  }
  try {
    execFileSync(AGENT_BROWSER, ["close"], {
      env: {
        ...process.env,
        AGENT_BROWSER_NO_VERSION_CHECK: "1",
        AGENT_BROWSER_SESSION: `bench-${CDP_PORT}`,
      },
    });
  } catch {}
  const n = PAGES.length;
  line(
    "pages with the answer text in the first snapshot (ours)",
    `${answerOurs}/${n}`,
    `agent-browser -i: ${answerAb}/${n}`,
  );
  line(
    "pages where the needed element has a ref (ours)",
    `${refOurs}/${n}`,
    `agent-browser -i: ${refAb}/${n}`,
  );
  line("pages where our snapshot is within the budget", `${withinBudget}/${n}`);
  line(
    "our snapshot size / agent-browser -i, median",
    `${median(ratios).toFixed(2)}x`,
    `range ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}x`,
  );

  // Time per step besides the model: an action, the page settling, the new snapshot.
  await page.goto(site.url + "/div-button", { waitUntil: "load" });
  const driver = new PageDriver(context, BUDGET_TOKENS, Date.now() + 600_000);
  const steps: number[] = [];
  for (let i = 0; i < STEPS + 3; i++) {
    const view = await driver.snapshot();
    const target = view.lines.find(
      (l) => /"?(Add to cart|Added)"?/.test(l.text) && /\[ref=e\d+\]/.test(l.text),
    );
    const ref = /\[ref=(e\d+)\]/.exec(target?.text ?? "")?.[1] as `e${number}`;
    const t = performance.now();
    const out = await driver.run(
      i % 2 ? { tool: "click", ref } : { tool: "scroll", direction: "down" },
    );
    if (out.failed) throw new Error(out.line);
    if (i >= 3) steps.push(performance.now() - t);
    if (i % 2)
      await page.evaluate(() => document.querySelector(".btn")!.replaceChildren("Add to cart"));
  }
  line(
    "agent step besides the model (act + settle + snapshot), p50",
    `${median(steps).toFixed(0)} ms`,
    `p90 ${percentile(steps, 90).toFixed(0)} ms, ${steps.length} steps`,
  );
  await browser.close();
  site.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
