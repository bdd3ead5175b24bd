import { expect, test } from "vitest";
import type { FixtureSite } from "./helpers/fixture-site.js";
import { postJson, type TestServer } from "./helpers/server.js";
import { useServerAndSite } from "./helpers/server-and-site.js";

let server: TestServer;
let site: FixtureSite;
useServerAndSite((s) => ({ server, site } = s));

const scrape = (body: unknown) => postJson(`${server.url}/v2/scrape`, body);

/** Downloads a screenshot URL from the response and reads its type and pixel size. */
async function fetchImage(url: string) {
  const res = await fetch(url);
  const bytes = Buffer.from(await res.arrayBuffer());
  const png = bytes.subarray(0, 8).equals(Buffer.from("89504e470d0a1a0a", "hex"));
  return {
    status: res.status,
    contentType: res.headers.get("content-type"),
    png,
    jpeg: bytes[0] === 0xff && bytes[1] === 0xd8,
    height: png ? bytes.readUInt32BE(20) : undefined,
  };
}

test("markdown is the default: the JS-rendered main content, without nav or footer", async () => {
  const res = await scrape({ url: `${site.url}/` });
  expect(res.status).toBe(200);
  expect(res.body.success).toBe(true);
  const { data } = res.body;
  expect(Object.keys(data).sort()).toEqual(["markdown", "metadata"]);
  expect(data.markdown).toContain("# Hello fixture");
  expect(data.markdown).toContain("Rendered by JavaScript");
  expect(data.markdown).toContain(`[About us](${site.url}/about)`);
  expect(data.markdown).not.toContain("Nav link");
  expect(data.markdown).not.toContain("Footer text");
});

test("every format at once: cleaned html, raw html, links, images and a screenshot URL", async () => {
  const res = await scrape({
    url: `${site.url}/`,
    formats: ["markdown", "html", "rawHtml", "links", "images", "screenshot"],
  });
  expect(res.status).toBe(200);
  const { data } = res.body;
  expect(data.html).toContain(`<a href="${site.url}/about">About us</a>`);
  expect(data.html).toContain(`src="${site.url}/img/cat.png"`);
  expect(data.html).toContain("Rendered by JavaScript");
  expect(data.html).not.toMatch(/<script|<nav|<footer/);
  expect(data.rawHtml).toMatch(/^<!DOCTYPE html>/i);
  expect(data.rawHtml).toContain("<nav>");
  expect(data.rawHtml).toContain("<script>");
  expect(data.rawHtml).toContain('<div id="js">Rendered by JavaScript</div>');
  expect(data.links).toEqual([`${site.url}/about`, "https://example.org/out"]);
  expect(data.images).toEqual([`${site.url}/img/cat.png`]);
  expect(data.screenshot).toMatch(new RegExp(`^${server.url}/v2/files/[\\w-]+\\.png$`));
  const shot = await fetchImage(data.screenshot);
  expect(shot).toMatchObject({ status: 200, contentType: "image/png", png: true });
});

test("full-page screenshots in each spelling, and JPEG when a quality is given", async () => {
  for (const format of ["screenshot@fullPage", { type: "screenshot", fullPage: true }]) {
    const res = await scrape({ url: `${site.url}/scroll`, formats: [format] });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.data).sort()).toEqual(["metadata", "screenshot"]);
    const shot = await fetchImage(res.body.data.screenshot);
    expect(shot.png).toBe(true);
    expect(shot.height).toBeGreaterThan(3000); // the whole tall page, not the 800 px viewport
  }
  const viewportOnly = await scrape({ url: `${site.url}/scroll`, formats: ["screenshot"] });
  expect((await fetchImage(viewportOnly.body.data.screenshot)).height).toBe(800);
  const jpeg = await scrape({
    url: `${site.url}/scroll`,
    formats: [{ type: "screenshot", quality: 40 }],
  });
  expect(await fetchImage(jpeg.body.data.screenshot)).toMatchObject({
    contentType: "image/jpeg",
    jpeg: true,
  });
});

test("metadata: title, description, language, og fields, favicon and every other meta tag", async () => {
  const res = await scrape({ url: `${site.url}/meta` });
  const meta = res.body.data.metadata;
  expect(meta).toMatchObject({
    title: "Meta Page",
    description: "Meta description",
    language: "en-GB",
    keywords: "alpha, beta",
    robots: "index, follow",
    ogTitle: "OG Meta Title",
    ogDescription: "OG meta description",
    ogUrl: "https://example.com/meta",
    ogImage: "https://example.com/og.png",
    ogSiteName: "Fixture Site",
    ogLocale: "en_GB",
    ogLocaleAlternate: ["fr_FR", "de_DE"],
    favicon: `${site.url}/static/icon.png`,
    "twitter:card": "summary",
    author: "Fixture Author",
    "og:title": "OG Meta Title",
    sourceURL: `${site.url}/meta`,
    url: `${site.url}/meta`,
    statusCode: 200,
    contentType: "text/html; charset=utf-8",
    proxyUsed: "basic",
    cacheState: "miss",
    creditsUsed: 1,
  });
  expect(meta.scrapeId).toMatch(
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );

  // Fields for tags a page does not have are left out rather than sent empty.
  const plain = await scrape({ url: `${site.url}/form` });
  expect(plain.body.data.metadata.title).toBe("Form");
  for (const absent of [
    "ogTitle",
    "ogDescription",
    "description",
    "favicon",
    "ogLocaleAlternate",
  ]) {
    expect(plain.body.data.metadata).not.toHaveProperty(absent);
  }
});

test("sourceURL is the URL as sent, url is where the page ended up", async () => {
  const redirected = await scrape({ url: `${site.url}/redirect` });
  expect(redirected.body.data.metadata).toMatchObject({
    sourceURL: `${site.url}/redirect`,
    url: `${site.url}/`,
    statusCode: 200,
  });
  const bare = site.url.replace("http://", "");
  const noScheme = await scrape({ url: `${bare}/meta` });
  expect(noScheme.status).toBe(200);
  expect(noScheme.body.data.metadata).toMatchObject({
    sourceURL: `${bare}/meta`,
    url: `${site.url}/meta`,
  });
});

test("onlyMainContent: false keeps navigation and footer", async () => {
  const res = await scrape({ url: `${site.url}/`, onlyMainContent: false });
  expect(res.body.data.markdown).toContain("Nav link");
  expect(res.body.data.markdown).toContain("Footer text");
});

test("main content keeps an article's own header and tables; boilerplate goes", async () => {
  const res = await scrape({ url: `${site.url}/article`, formats: ["markdown", "images"] });
  const md: string = res.body.data.markdown;
  expect(md).toContain("# Article Title");
  expect(md).toContain(`[a relative link](${site.url}/more)`);
  expect(md).toContain("| Name | Qty |\n| --- | --- |\n| Apple | 3 |");
  expect(md).toContain("- First item\n- Second item");
  for (const gone of ["Site header link", "Nav one", "Sidebar link", "Aside text", "Site footer"]) {
    expect(md).not.toContain(gone);
  }
  // srcset: the largest candidate is the image.
  expect(res.body.data.images).toEqual([`${site.url}/img/large.png`]);
});

test("includeTags keeps only matching elements; excludeTags removes matching ones", async () => {
  const only = await scrape({ url: `${site.url}/article`, includeTags: [".lead", "table"] });
  expect(only.body.data.markdown).toContain("Lead paragraph");
  expect(only.body.data.markdown).toContain("Apple");
  expect(only.body.data.markdown).not.toContain("Article Title");
  expect(only.body.data.markdown).not.toContain("First item");

  const without = await scrape({ url: `${site.url}/article`, excludeTags: ["table", ".promo"] });
  expect(without.body.data.markdown).toContain("Article Title");
  expect(without.body.data.markdown).not.toContain("Apple");
  expect(without.body.data.markdown).not.toContain("Promo block");
});

test("data: images become a placeholder unless removeBase64Images is false", async () => {
  const removed = await scrape({ url: `${site.url}/base64`, formats: ["markdown", "html"] });
  expect(removed.body.data.markdown).toContain("![dot](<Base64-Image-Removed>)");
  expect(removed.body.data.markdown).not.toContain("data:image");
  expect(removed.body.data.html).not.toContain("data:image");

  const kept = await scrape({ url: `${site.url}/base64`, removeBase64Images: false });
  expect(kept.body.data.markdown).toContain("![dot](data:image/png;base64,");
});

test("a 404 or a 500 page is still scraped and reports its status code", async () => {
  const missing = await scrape({ url: `${site.url}/no-such-page` });
  expect(missing.status).toBe(200);
  expect(missing.body.data.markdown).toContain("404 nothing here");
  expect(missing.body.data.metadata.statusCode).toBe(404);

  const broken = await scrape({ url: `${site.url}/error500` });
  expect(broken.status).toBe(200);
  expect(broken.body.data.markdown).toContain("Something broke");
  expect(broken.body.data.metadata.statusCode).toBe(500);
});

test("a JSON document comes back as a fenced JSON block", async () => {
  const res = await scrape({ url: `${site.url}/data.json` });
  expect(res.body.data.markdown).toBe('```json\n{"name":"fixture","items":[1,2]}\n```');
  expect(res.body.data.metadata.contentType).toBe("application/json");
});

test("the origin label the official SDKs add to every request is accepted", async () => {
  const res = await scrape({ url: `${site.url}/form`, origin: "js-sdk@4.42.0" });
  expect(res.status).toBe(200);
});
