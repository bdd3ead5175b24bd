import Firecrawl from "@mendable/firecrawl-js";
import { expect, test } from "vitest";
import type { FixtureSite } from "./helpers/fixture-site.js";
import type { TestServer } from "./helpers/server.js";
import { useServerAndSite } from "./helpers/server-and-site.js";

let server: TestServer;
let site: FixtureSite;
useServerAndSite((s) => ({ server, site } = s));

test("the official SDK scrapes, interacts and stops against this server", async () => {
  const firecrawl = new Firecrawl({ apiUrl: server.url, apiKey: "fc-self-hosted" });
  const doc = await firecrawl.scrape(`${site.url}/`, { formats: ["markdown"] });
  const id = doc.metadata!.scrapeId as string;

  const run = await firecrawl.interact(id, {
    code: "const title = await page.title(); JSON.stringify({ title });",
  });
  expect(run).toMatchObject({ success: true, result: '{"title":"Fixture Home"}', exitCode: 0 });

  const stopped = await firecrawl.stopInteraction(id);
  expect(stopped).toMatchObject({ success: true, status: "stopped" });
  await expect(firecrawl.interact(id, { code: "1" })).rejects.toMatchObject({ status: 410 });
});

test("the SDK's deprecated names do the same: scrapeExecute, stopInteractiveBrowser, deleteScrapeBrowser", async () => {
  const firecrawl = new Firecrawl({ apiUrl: server.url, apiKey: "fc-self-hosted" });
  const scrape = async () =>
    (await firecrawl.scrape(`${site.url}/`, { formats: ["markdown"] })).metadata!.scrapeId!;

  const first = await scrape();
  const run = await firecrawl.scrapeExecute(first, { code: "page.url()" });
  expect(run).toMatchObject({ success: true, result: `${site.url}/` });
  expect(await firecrawl.stopInteractiveBrowser(first)).toMatchObject({
    success: true,
    status: "stopped",
  });

  const second = await scrape();
  await firecrawl.scrapeExecute(second, { code: "1" });
  expect(await firecrawl.deleteScrapeBrowser(second)).toMatchObject({
    success: true,
    status: "stopped",
  });
});
