import Firecrawl from "@mendable/firecrawl-js";
import { expect, test } from "vitest";
import type { FixtureSite } from "./helpers/fixture-site.js";
import type { TestServer } from "./helpers/server.js";
import { useServerAndSite } from "./helpers/server-and-site.js";

let server: TestServer;
let site: FixtureSite;

useServerAndSite((s) => ({ server, site } = s));

// The SDK only insists on an API key for Firecrawl's cloud; pointed elsewhere it needs none.
const client = () => new Firecrawl({ apiUrl: server.url });

test("the official JS SDK scrapes through this server unchanged", async () => {
  const doc = await client().scrape(`${site.url}/`, { formats: ["markdown", "html", "links"] });
  expect(doc.markdown).toContain("# Hello fixture");
  expect(doc.markdown).toContain("Rendered by JavaScript");
  expect(doc.html).toContain(`<a href="${site.url}/about">About us</a>`);
  expect(doc.links).toEqual([`${site.url}/about`, "https://example.org/out"]);
  expect(doc.rawHtml).toBeUndefined();
  expect(doc.metadata).toMatchObject({
    title: "Fixture Home",
    description: "A local page for tests",
    sourceURL: `${site.url}/`,
    url: `${site.url}/`,
    statusCode: 200,
  });
  expect(doc.metadata?.scrapeId).toMatch(/^[0-9a-f-]{36}$/);
  // The SDK added its origin label to the body, and the server took it.
  const record = await server.services.store.scrapes.get(doc.metadata!.scrapeId!);
  expect(record?.replayContext?.finalUrl).toBe(`${site.url}/`);
});

test("a request the server refuses surfaces as an SDK error with the server's message", async () => {
  await expect(client().scrape(`${site.url}/`, { formats: ["summary"] })).rejects.toThrow(
    /needs an LLM/,
  );
});

test("scrapeUrl, the SDK's deprecated name, is scrape", async () => {
  const doc = await client().scrapeUrl(`${site.url}/`, { formats: ["markdown"] });
  expect(doc.markdown).toContain("# Hello fixture");
  expect(doc.metadata?.scrapeId).toMatch(/^[0-9a-f-]{36}$/);
});
