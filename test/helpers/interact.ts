import { pidsMentioning as running } from "../../src/processes/process-table.js";
import { sandboxRoot } from "../../src/sandbox/root.js";
import { postJson } from "./server.js";

/** Scrapes url on the test server and returns the scrape id. */
export async function scrapeId(serverUrl: string, body: Record<string, unknown>): Promise<string> {
  const res = await postJson(`${serverUrl}/v2/scrape`, body);
  if (res.status !== 200)
    throw new Error(`scrape failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.metadata.scrapeId;
}

/** POST /v2/scrape/{id}/interact. */
export function interact(serverUrl: string, id: string, body: Record<string, unknown> | string) {
  return postJson(`${serverUrl}/v2/scrape/${id}/interact`, body);
}

/** DELETE /v2/scrape/{id}/interact. */
export async function stop(serverUrl: string, id: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${serverUrl}/v2/scrape/${id}/interact`, { method: "DELETE" });
  return { status: res.status, body: await res.json() };
}

/** Pids of processes whose command line mentions marker (our Chromium and sandbox processes). */
export async function pidsMentioning(marker: string): Promise<number[]> {
  return running([marker]);
}

/** Pids of the processes a server on dataDir started: browsers, jails and sandbox workers. */
export async function serverPids(dataDir: string): Promise<number[]> {
  return running([dataDir, sandboxRoot(dataDir)]);
}
