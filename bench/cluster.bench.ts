// bench:cluster: what a node in the middle costs. Two nodes on a throwaway Postgres, each its own
// process started as `npm start` starts one (default logging); a standalone browser session on
// node 1. The same warm call, `await page.title()`, sent to node 1 directly and through node 2
// (which forwards it), interleaved so both see the same machine; then what two idle nodes cost
// for their heartbeats and membership (CPU, and transactions per second on the database).
import os from "node:os";
import pg from "pg";
import { CLOCK_TICKS_PER_SECOND, processTable } from "../src/processes/process-table.js";
import { startPostgres } from "../scripts/throwaway-postgres.mjs";
import { startMain, type MainProcess } from "../test/helpers/main-process.js";
import { freePort } from "../test/helpers/ports.js";
import { descendants, line, median, ms, percentile, sleep, time } from "./lib.js";

const SECRET = "a-cluster-secret-for-the-benchmark-only";
const CALLS = Number(process.env.BENCH_CALLS ?? 100);
const IDLE_MS = Number(process.env.BENCH_IDLE_SECONDS ?? 30) * 1000;
const LOST_SECONDS = 15;

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

async function main() {
  const postgres = await startPostgres(os.tmpdir());
  const databaseUrl: string = postgres.url;
  let nodes: MainProcess[] = [];
  try {
    nodes = [await node("node-1", databaseUrl), await node("node-2", databaseUrl)];
    const [owner, other] = nodes as [MainProcess, MainProcess];
    // The second node must know the first's address: its first heartbeat after the start.
    await sleep((LOST_SECONDS * 1000) / 3 + 500);
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

    console.log(
      `cluster benchmark  ${new Date().toISOString().slice(0, 10)}  ${os.cpus().length} cores`,
    );
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
    console.log(`two idle nodes for ${IDLE_MS / 1000} s (NODE_LOST_SECONDS=${LOST_SECONDS})`);
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
