// bench:cluster: what a cluster costs. Nodes on a throwaway Postgres, each its own process
// started as `npm start` starts one (default logging); a standalone browser session on node 1. The same warm call, `await page.title()`, sent to node 1 directly and through node 2
// (which forwards it), interleaved so both see the same machine; what two idle nodes cost for
// their heartbeats and membership (CPU, and transactions per second on the database); and
// sessions made per second through HAProxy in front of one, two and three nodes.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { CLOCK_TICKS_PER_SECOND, processTable } from "../src/processes/process-table.js";
import { findExecutable, startPostgres } from "../scripts/throwaway-postgres.mjs";
import { startMain, type MainProcess } from "../test/helpers/main-process.js";
import { freePort } from "../test/helpers/ports.js";
import { descendants, line, median, ms, percentile, sleep, time } from "./lib.js";

const SECRET = "a-cluster-secret-for-the-benchmark-only";
const CALLS = Number(process.env.BENCH_CALLS ?? 100);
const IDLE_MS = Number(process.env.BENCH_IDLE_SECONDS ?? 30) * 1000;
const LOST_SECONDS = 15;
/** Sessions asked for at once through HAProxy, for each cluster size. */
const BURST = Number(process.env.BENCH_BURST ?? 8);

async function node(id: string, databaseUrl: string): Promise<MainProcess> {
  const port = await freePort();
  return startMain({
    NODE_ID: id,
    PORT: String(port),
    NODE_URL: `http://127.0.0.1:${port}`,
    CLUSTER_SECRET: SECRET,
    DATABASE_URL: databaseUrl,
    NODE_LOST_SECONDS: String(LOST_SECONDS),
    DRAIN_SECONDS: "0",
    // Room for a whole burst on one node, so that one node is measured alone.
    MAX_BROWSER_SESSIONS: String(BURST + 2),
  });
}

async function execute(base: string, id: string): Promise<void> {
  const res = await fetch(`${base}/v2/browser/${id}/execute`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code: "await page.title()", language: "node" }),
  });
  const body = (await res.json()) as { success?: boolean };
  if (res.status !== 200 || !body.success) throw new Error(`execute: ${res.status}`);
}

/** CPU seconds of every process this bench started (the nodes and what they run). */
function treeCpuSeconds(): number {
  const table = processTable();
  const ticks = descendants(process.pid).map((p) => table.get(p)?.cpuTicks ?? 0);
  return ticks.reduce((a, b) => a + b, 0) / CLOCK_TICKS_PER_SECOND;
}

async function transactions(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const res = await client.query(
      "select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()",
    );
    return Number(res.rows[0].n);
  } finally {
    await client.end();
  }
}

/** HAProxy round robin over `nodes` on a free port, as deploy/haproxy/haproxy.cfg sets it up. */
async function haproxy(nodes: MainProcess[]): Promise<{ url: string; stop(): Promise<void> }> {
  const bin = findExecutable("haproxy", ["/usr/sbin", "/usr/local/sbin"]);
  if (!bin) throw new Error("HAProxy is not installed: apt-get install -y haproxy");
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-haproxy-"));
  const servers = nodes.map(
    (n, i) => `    server node-${i + 1} ${new URL(n.url).host} check inter 1s`,
  );
  fs.writeFileSync(
    path.join(dir, "haproxy.cfg"),
    [
      "defaults",
      "    mode http",
      "    balance roundrobin",
      "    timeout connect 5s",
      "    timeout client 360s",
      "    timeout server 360s",
      "frontend public",
      `    bind 127.0.0.1:${port}`,
      "    default_backend nodes",
      "backend nodes",
      "    option httpchk GET /health/ready",
      ...servers,
      "",
    ].join("\n"),
  );
  const child = spawn(bin, ["-db", "-f", path.join(dir, "haproxy.cfg")], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if ((await fetch(`${url}/health/live`).catch(() => undefined))?.ok) break;
    await sleep(100);
  }
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sessions made per second through `url`: BURST asked for at once, then all stopped. */
async function sessionsPerSecond(url: string): Promise<number> {
  const t0 = performance.now();
  const made = await Promise.all(
    Array.from({ length: BURST }, async () => {
      const res = await fetch(`${url}/v2/browser`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      const body = (await res.json()) as { id?: string };
      if (res.status !== 200 || !body.id) throw new Error(`create: ${res.status}`);
      return body.id;
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(made.map((id) => fetch(`${url}/v2/browser/${id}`, { method: "DELETE" })));
  return BURST / seconds;
}

/** Sessions per second through HAProxy in front of every node there is now. */
async function burst(nodes: MainProcess[], one: number): Promise<number> {
  const proxy = await haproxy(nodes);
  try {
    await sessionsPerSecond(proxy.url); // warm: each node's first sessions pay their start
    const rate = await sessionsPerSecond(proxy.url);
    const n = nodes.length;
    line(
      `sessions per second, ${n} node${n > 1 ? "s" : ""}`,
      rate.toFixed(2),
      `${(rate / (one || rate)).toFixed(2)}x one node`,
    );
    return rate;
  } finally {
    await proxy.stop();
  }
}

async function main() {
  const postgres = await startPostgres(os.tmpdir());
  const databaseUrl: string = postgres.url;
  const nodes: MainProcess[] = [];
  try {
    console.log(
      `cluster benchmark  ${new Date().toISOString().slice(0, 10)}  ${os.cpus().length} cores`,
    );
    // Sessions per second as the cluster grows: the nodes share this machine's cores.
    console.log(`${BURST} sessions asked for at once through HAProxy (the nodes share the cores)`);
    nodes.push(await node("node-1", databaseUrl));
    const one = await burst(nodes, 0);
    nodes.push(await node("node-2", databaseUrl));
    // The first node must know the second's address: a heartbeat after its start.
    await sleep((LOST_SECONDS * 1000) / 3 + 500);
    await burst(nodes, one);
    nodes.push(await node("node-3", databaseUrl));
    await sleep((LOST_SECONDS * 1000) / 3 + 500);
    await burst(nodes, one);

    const [owner, other] = nodes as [MainProcess, MainProcess];
    const made = await fetch(`${owner.url}/v2/browser`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    const { id } = (await made.json()) as { id: string };
    for (let i = 0; i < 5; i++) {
      await execute(owner.url, id);
      await execute(other.url, id);
    }
    const direct: number[] = [];
    const forwarded: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      direct.push(await time(() => execute(owner.url, id)));
      forwarded.push(await time(() => execute(other.url, id)));
    }
    await fetch(`${owner.url}/v2/browser/${id}`, { method: "DELETE" });

    console.log(`warm call \`await page.title()\`, ${CALLS} each, interleaved`);
    line("straight to the owner, p50", ms(median(direct)), `p90 ${ms(percentile(direct, 90))}`);
    line(
      "through another node, p50",
      ms(median(forwarded)),
      `p90 ${ms(percentile(forwarded, 90))}`,
    );
    line(
      "the hop's overhead, p50 (target <= 2 ms)",
      ms(median(forwarded) - median(direct)),
      `${(median(forwarded) / median(direct)).toFixed(2)}x`,
    );

    const cpu0 = treeCpuSeconds();
    const tx0 = await transactions(databaseUrl);
    await sleep(IDLE_MS);
    const cpu = treeCpuSeconds() - cpu0;
    const tx = (await transactions(databaseUrl)) - tx0 - 1;
    console.log(
      `${nodes.length} idle nodes for ${IDLE_MS / 1000} s (NODE_LOST_SECONDS=${LOST_SECONDS})`,
    );
    line(
      "CPU per node",
      `${((cpu / nodes.length / (IDLE_MS / 1000)) * 100).toFixed(2)} %`,
      `${(cpu / nodes.length).toFixed(2)} core-s`,
    );
    line(
      "database transactions per second per node",
      (tx / nodes.length / (IDLE_MS / 1000)).toFixed(2),
    );
  } finally {
    for (const n of nodes) await n.stop().catch(() => n.kill());
    await postgres.stop();
  }
}

await main();
