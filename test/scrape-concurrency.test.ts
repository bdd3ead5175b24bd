import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { closeAll, postJson, startTestServer, type TestServer } from "./helpers/server.js";

/** A site whose /gate pages answer only once the test opens the gate: a scrape as slow as we like. */
async function startGatedSite() {
  const arrivals: string[] = [];
  const held: http.ServerResponse[] = [];
  let open = false;
  const answer = (res: http.ServerResponse) =>
    res.writeHead(200, { "content-type": "text/html" }).end("<title>Gate</title><p>through</p>");
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname !== "/gate") return void res.writeHead(404).end();
    arrivals.push(url.searchParams.get("n") ?? "");
    if (open) answer(res);
    else held.push(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    arrivals,
    open: () => {
      open = true;
      for (const res of held.splice(0)) answer(res);
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

let server: TestServer;
let site: Awaited<ReturnType<typeof startGatedSite>>;

beforeAll(async () => {
  // One scrape at a time, so at most 4 wait.
  [server, site] = await Promise.all([
    startTestServer({ MAX_CONCURRENT_SCRAPES: "1" }),
    startGatedSite(),
  ]);
});
afterAll(() => closeAll(server, site));

test("scrapes past the limit wait in line, in order, within their own timeout and connection", async () => {
  const slots = server.services.scrapes.slots;
  const scrape = (n: number, timeout = 60_000) =>
    postJson(`${server.url}/v2/scrape`, { url: `${site.url}/gate?n=${n}`, timeout });
  const queued = (count: number) =>
    expect.poll(() => slots.waiting, { timeout: 20_000 }).toBe(count);

  const first = scrape(0);
  await expect.poll(() => site.arrivals, { timeout: 20_000 }).toEqual(["0"]);
  const second = scrape(1);
  await queued(1);
  const third = scrape(2);
  await queued(2);
  // A client that will go away while waiting.
  const leaving = http.request(`${server.url}/v2/scrape`, {
    method: "POST",
    headers: { "content-type": "application/json" },
  });
  leaving.on("error", () => {});
  leaving.end(JSON.stringify({ url: `${site.url}/gate?n=3`, timeout: 60_000 }));
  await queued(3);
  // One whose timeout ends before its turn comes.
  const impatient = scrape(4, 1_000);
  await queued(4);

  // The line is full: refused at once, with a code of its own.
  const refused = await scrape(5);
  expect(refused.status).toBe(429);
  expect(refused.body).toMatchObject({ success: false, code: "TOO_MANY_SCRAPES" });
  expect(refused.body.error).toMatch(/Too many scrapes/);

  leaving.destroy();
  await queued(3);
  const late = await impatient;
  expect(late.status).toBe(408);
  expect(late.body.code).toBe("SCRAPE_TIMEOUT");
  expect(late.body.error).toMatch(/timed out after 1000 ms while waiting for a free scrape slot/);
  expect(slots.waiting).toBe(2);

  site.open();
  for (const res of await Promise.all([first, second, third])) {
    expect(res.status).toBe(200);
    expect(res.body.data.markdown).toContain("through");
  }
  // First come, first served; those that left never reached the site.
  expect(site.arrivals).toEqual(["0", "1", "2"]);
  expect({ running: slots.running, waiting: slots.waiting }).toEqual({ running: 0, waiting: 0 });
});
