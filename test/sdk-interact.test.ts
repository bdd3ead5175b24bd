import Firecrawl from "@mendable/firecrawl-js";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { FixtureSite } from "./helpers/fixture-site.js";
import { type TestServer, closeAll, startServerAndSite } from "./helpers/server.js";

let server: TestServer;
let site: FixtureSite;
beforeAll(async () => {
  [server, site] = await startServerAndSite();
});
afterAll(() => closeAll(server, site));

test("the official SDK scrapes, interacts and stops against this server", async () => {
  const firecrawl = new Firecrawl({ apiUrl: server.url, apiKey: "fc-self-hosted" });
  const doc = await firecrawl.scrape(`${site.url}/`, { formats: ["markdown"] });
  const id = doc.metadata!.scrapeId as string;

  const run = await firecrawl.interact(id, {
    code: "const title = await page.title(); JSON.stringify({ title });",
  });
  expect(run).toMatchObject({ success: true, result: '{"title":"Fixture Home"}', exitCode: 0 });

  const stopped = await firecrawl.stopInteraction(id);
  expect(stopped).toMatchObject({ success: true, status: "destroyed" });
  await expect(firecrawl.interact(id, { code: "1" })).rejects.toMatchObject({ status: 410 });
});
