import http from "node:http";
import net from "node:net";
import { expect, test } from "vitest";
import type { FixtureSite } from "./helpers/fixture-site.js";
import { postJson, startTestServer, type TestServer } from "./helpers/server.js";
import { useServerAndSite } from "./helpers/server-and-site.js";

let server: TestServer;
let site: FixtureSite;
useServerAndSite((s) => ({ server, site } = s));

const scrape = (body: unknown) => postJson(`${server.url}/v2/scrape`, body);

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test("bad requests are a 400 with a message and the offending fields", async () => {
  const url = `${site.url}/`;
  const cases: [string, unknown, string][] = [
    ["unknown key", { url, colour: "blue" }, "colour"],
    ["not http", { url: "ftp://example.com/file" }, "url"],
    ["no url", { formats: ["markdown"] }, "url"],
    ["unknown format", { url, formats: ["pdf"] }, "formats.0"],
    ["LLM format", { url, formats: ["summary"] }, "formats.0"],
    ["waitFor over half the timeout", { url, waitFor: 6000, timeout: 10_000 }, "waitFor"],
    ["timeout too small", { url, timeout: 10 }, "timeout"],
    [
      "too many actions",
      { url, actions: Array(51).fill({ type: "wait", milliseconds: 1 }) },
      "actions",
    ],
    ["action without its selector", { url, actions: [{ type: "click" }] }, "actions.0.selector"],
    ["wait with neither field", { url, actions: [{ type: "wait" }] }, "actions.0"],
    [
      "script that does not parse",
      { url, actions: [{ type: "executeJavascript", script: "return (" }] },
      "actions.0.script",
    ],
    ["bad header name", { url, headers: { "Bad Header": "x" } }, "headers.Bad Header"],
    ["header the browser owns", { url, headers: { Host: "example.com" } }, "headers.Host"],
    ["unknown country", { url, location: { country: "ZZ" } }, "location.country"],
    ["wrong type", { url, mobile: "yes" }, "mobile"],
    ["proxy not a string", { url, proxy: 5 }, "proxy"],
  ];
  for (const [name, body, path] of cases) {
    const res = await scrape(body);
    expect(res.status, name).toBe(400);
    expect(res.body, name).toMatchObject({ success: false, code: "BAD_REQUEST" });
    expect(typeof res.body.error, name).toBe("string");
    const paths = (res.body.details ?? []).map((d: any) => d.path);
    if (name === "unknown key") expect(res.body.error, name).toContain("colour");
    else expect(paths, name).toContain(path);
  }
  const llm = await scrape({ url, formats: ["json"] });
  expect(llm.body.error).toContain("needs an LLM");
});

test("a mistyped URL scheme is a 400 that says so, not a DNS error; a bare host with a port still works", async () => {
  for (const [url, words] of [
    ["htp:/oops", '"htp:" is not a scheme this server scrapes'],
    ["http:/example.com", "write http:// (two slashes)"],
    ["https:example.com", "write https:// (two slashes)"],
  ] as const) {
    const res = await scrape({ url });
    expect(res.status, url).toBe(400);
    expect(res.body.error, url).toContain(words);
  }
  const port = new URL(site.url).port;
  const bare = await scrape({ url: `127.0.0.1:${port}/` });
  expect(bare.status).toBe(200);
});

test("CSS selectors the browser cannot parse are a 400 naming them", async () => {
  const res = await scrape({ url: `${site.url}/`, includeTags: ["main"], excludeTags: ["div["] });
  expect(res.status).toBe(400);
  expect(res.body.code).toBe("BAD_REQUEST");
  expect(res.body.details).toEqual([
    { path: "excludeTags.0", message: "not a valid CSS selector: div[" },
  ]);
});

test("bodies that are not a JSON object are a 400", async () => {
  const notObject = await scrape([`${site.url}/`]);
  expect(notObject.status).toBe(400);
  expect(notObject.body.code).toBe("BAD_REQUEST");
  const malformed = await scrape('{"url": ');
  expect(malformed.status).toBe(400);
  expect(malformed.body.success).toBe(false);
});

test("a target slower than the timeout is a 408 naming the host", async () => {
  // The smallest timeout a request may ask for.
  const res = await scrape({ url: `${site.url}/slow?ms=20000`, timeout: 1000 });
  expect(res.status).toBe(408);
  expect(res.body.code).toBe("SCRAPE_TIMEOUT");
  expect(res.body.error).toContain(new URL(site.url).host);
  expect(res.body.error).toContain("1000 ms");
});

test("a name that does not resolve is SCRAPE_DNS_RESOLUTION_ERROR", async () => {
  const res = await scrape({ url: "http://nonexistent.invalid/page" });
  expect(res.status).toBe(502);
  expect(res.body.code).toBe("SCRAPE_DNS_RESOLUTION_ERROR");
  expect(res.body.error).toContain("nonexistent.invalid");
});

test("a refused connection is SCRAPE_CONNECTION_FAILED naming host and port", async () => {
  const port = await closedPort();
  const res = await scrape({ url: `http://127.0.0.1:${port}/` });
  expect(res.status).toBe(502);
  expect(res.body.code).toBe("SCRAPE_CONNECTION_FAILED");
  expect(res.body.error).toContain(`127.0.0.1:${port}`);
  expect(res.body.error).toContain("refused");
});

test("a server that does not speak TLS on an https URL is SCRAPE_SSL_ERROR", async () => {
  const res = await scrape({ url: site.url.replace("http://", "https://") + "/" });
  expect(res.status).toBe(502);
  expect(res.body.code).toBe("SCRAPE_SSL_ERROR");
  expect(res.body.error).toContain(new URL(site.url).host);
});

test("a client that disconnects stops its scrape", async () => {
  // node:http rather than fetch, whose connection pool may leave a spare socket open.
  const client = http.request(`${server.url}/v2/scrape`, {
    method: "POST",
    headers: { "content-type": "application/json" },
  });
  client.on("error", () => {});
  client.end(JSON.stringify({ url: `${site.url}/slow?ms=40000&tag=abort`, timeout: 60_000 }));
  const seen = () => site.requests.find((r) => r.path === "/slow" && r.query.includes("tag=abort"));
  await expect.poll(() => seen() !== undefined, { timeout: 20_000 }).toBe(true);
  client.destroy();
  // The browser dropped its request to the site long before the 40 s page or 60 s timeout.
  await expect.poll(() => seen()?.aborted === true, { timeout: 10_000 }).toBe(true);
});

test("with private networks off, loopback and private targets are refused", async () => {
  const closed = await startTestServer({ ALLOW_PRIVATE_NETWORK: "false" });
  try {
    const port = new URL(site.url).port;
    for (const url of [
      `${site.url}/meta?tag=private`,
      `http://localhost:${port}/meta?tag=private`,
      `http://[::1]:${port}/meta?tag=private`,
      `${site.httpsUrl}/meta?tag=private`,
    ]) {
      const res = await postJson(`${closed.url}/v2/scrape`, { url });
      expect(res.status, url).toBe(403);
      expect(res.body.code, url).toBe("PRIVATE_ADDRESS_BLOCKED");
      expect(res.body.error, url).toMatch(/127\.0\.0\.1|::1|localhost/);
      expect(res.body.error, url).toContain("private");
    }
    expect(site.requests.some((r) => r.query.includes("tag=private"))).toBe(false);
  } finally {
    await closed.close();
  }
});

test("scrapes failing at once on one host each hear only about their own port", async () => {
  const closed = await closedPort();
  const own = new URL(server.url).port;
  const targets = [
    ...Array.from({ length: 3 }, () => `http://127.0.0.1:${own}/`),
    ...Array.from({ length: 3 }, () => `http://127.0.0.1:${closed}/`),
  ];
  const answers = await Promise.all(targets.map((url) => scrape({ url, timeout: 15_000 })));
  answers.forEach((res, i) => {
    const mine = new URL(targets[i]!).port;
    const other = mine === own ? String(closed) : own;
    expect(res.status, targets[i]).toBeGreaterThanOrEqual(400);
    expect(res.body.error, targets[i]).toContain(`:${mine}`);
    expect(res.body.error, targets[i]).not.toContain(`:${other}`);
  });
});

test("a body over the limit is a 413 that names the limit; a v1 path points to v2", async () => {
  const big = await scrape({
    url: `${site.url}/`,
    headers: { "x-big": "a".repeat(3 * 1024 * 1024) },
  });
  expect(big.status).toBe(413);
  expect(big.body).toMatchObject({ success: false, code: "PAYLOAD_TOO_LARGE" });
  expect(big.body.error).toBe("Request body is too large: the limit is 2 MiB (2097152 bytes).");

  const v1 = await postJson(`${server.url}/v1/scrape`, { url: `${site.url}/` });
  expect(v1.status).toBe(404);
  expect(v1.body.error).toContain("try /v2/scrape");
});
