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
