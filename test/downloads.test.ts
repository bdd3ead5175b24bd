import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { call as modelCall, refOf, startFakeModel } from "./helpers/fake-model.js";
import { BINARY_DOWNLOAD, type FixtureSite } from "./helpers/fixture-site.js";
import type { TestServer } from "./helpers/server.js";
import { useServerAndSite } from "./helpers/server-and-site.js";
import { makeTeam, teamClient } from "./helpers/team-client.js";

/**
 * Files a session's browser downloads: kept whoever clicks (node, python, agent-browser), listed
 * and served byte for byte, held to SESSION_DOWNLOADS_MB, named safely, kept after the session
 * for RECORDING_RETENTION_DAYS and then removed.
 */
let server: TestServer;
let site: FixtureSite;
// Prompts are answered by a scripted model.
const model = await startFakeModel();
afterAll(() => model.close());

useServerAndSite((s) => ({ server, site } = s), {
  OPENAI_BASE_URL: model.baseUrl,
  MODEL_NAME: "fake-model",
  USE_DB_AUTHENTICATION: "true",
  ALLOW_PRIVATE_NETWORK: "true",
  BROWSER_POOL_SIZE: "1",
  SESSION_DOWNLOADS_MB: "1",
});

let key: string;
let otherKey: string;
beforeAll(async () => {
  key = (await makeTeam(server, "downloads", 1_000)).key;
  otherKey = (await makeTeam(server, "other", 1_000)).key;
});

const call = (method: string, url: string, body?: unknown, as = key) =>
  teamClient(server, as).call(method, url, body);

/** A standalone session on the fixture's downloads page. */
async function browserSession(): Promise<string> {
  const made = await call("POST", "/v2/browser", { ttl: 300 });
  expect(made.status, JSON.stringify(made.body)).toBe(200);
  const id: string = made.body.id;
  await node(id, `await page.goto(${JSON.stringify(`${site.url}/downloads`)}); 1`);
  return id;
}

async function run(id: string, language: string, code: string): Promise<any> {
  const res = await call("POST", `/v2/browser/${id}/execute`, { code, language, timeout: 60 });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.success, JSON.stringify(res.body)).toBe(true);
  return res.body;
}
const node = (id: string, code: string) => run(id, "node", code);

/** Node code that clicks `selector` and answers how the download ended (null: it finished). */
const clickDownload = (selector: string) =>
  `const [d] = await Promise.all([page.waitForEvent("download"), page.click(${JSON.stringify(selector)})]);
JSON.stringify({ name: d.suggestedFilename(), failure: await d.failure() })`;

/** The listing at `url` once it holds `count` files (downloads are kept as they finish). */
async function filesOnceThere(url: string, count: number): Promise<any[]> {
  for (;;) {
    const res = await call("GET", url);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.success).toBe(true);
    if (res.body.files.length >= count) return res.body.files;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function fetchBytes(url: string) {
  const res = await fetch(url);
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

describe("downloads", () => {
  test("a download clicked in node is listed and served byte for byte, also after DELETE", async () => {
    const id = await browserSession();
    const csv = JSON.parse((await node(id, clickDownload("#dl"))).result);
    // The session's Playwright still sees its own download, finished.
    expect(csv).toEqual({ name: "report.csv", failure: null });
    expect(JSON.parse((await node(id, clickDownload("#bin"))).result).failure).toBeNull();

    const files = await filesOnceThere(`/v2/browser/${id}/files`, 2);
    expect(files).toEqual([
      {
        name: "report.csv",
        size: 18,
        mimeType: "text/csv",
        createdAt: expect.any(String),
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v2\/downloads\/[A-Za-z0-9_-]{22}$/),
        state: "completed",
      },
      expect.objectContaining({ name: "data.bin", size: BINARY_DOWNLOAD.length }),
    ]);
    // The alias lists the same.
    expect((await call("GET", `/v2/interact/${id}/files`)).body.files).toEqual(files);

    const csvFile = await fetchBytes(files[0].url);
    expect(csvFile.res.status).toBe(200);
    expect(csvFile.bytes.toString()).toBe("id,name\n1,fixture\n");
    expect(csvFile.res.headers.get("content-type")).toBe("text/csv");
    expect(csvFile.res.headers.get("content-disposition")).toBe(
      `attachment; filename="report.csv"; filename*=UTF-8''report.csv`,
    );
    const bin = await fetchBytes(files[1].url);
    expect(bin.bytes.equals(BINARY_DOWNLOAD)).toBe(true);
    expect(bin.res.headers.get("content-type")).toBe("application/octet-stream");

    // Another team sees nothing of it; an unknown session is 404.
    expect((await call("GET", `/v2/browser/${id}/files`, undefined, otherKey)).status).toBe(403);
    const unknown = "00000000-0000-4000-8000-000000000000";
    expect((await call("GET", `/v2/browser/${unknown}/files`)).status).toBe(404);

    expect((await call("DELETE", `/v2/browser/${id}`)).status).toBe(200);
    const after = await call("GET", `/v2/browser/${id}/files`);
    expect(after.body.files).toEqual(files);
    expect((await fetchBytes(files[1].url)).bytes.equals(BINARY_DOWNLOAD)).toBe(true);
    expect((await call("GET", `/v2/browser/${id}/files`, undefined, otherKey)).status).toBe(403);
    // The ended session's history says it has files.
    const listed = (await call("GET", "/v2/sessions?status=all")).body.sessions;
    expect(listed.find((s: { id: string }) => s.id === id)).toMatchObject({ files: 2 });
  });

  test("a download clicked in python, in a scrape's session, is listed under the scrape", async () => {
    const scraped = await call("POST", "/v2/scrape", { url: `${site.url}/downloads` });
    expect(scraped.status).toBe(200);
    const jobId: string = scraped.body.data.metadata.scrapeId;
    const res = await call("POST", `/v2/scrape/${jobId}/interact`, {
      language: "python",
      timeout: 60,
      code: [
        "async with page.expect_download() as info:",
        "    await page.click('#bin')",
        "d = await info.value",
        "repr(await d.failure())",
      ].join("\n"),
    });
    expect(res.body, JSON.stringify(res.body)).toMatchObject({ success: true, result: "None" });
    const files = await filesOnceThere(`/v2/scrape/${jobId}/interact/files`, 1);
    expect(files).toEqual([expect.objectContaining({ name: "data.bin", state: "completed" })]);
    expect((await fetchBytes(files[0].url)).bytes.equals(BINARY_DOWNLOAD)).toBe(true);
    const other = await call("GET", `/v2/scrape/${jobId}/interact/files`, undefined, otherKey);
    expect(other.status).toBe(403);
    expect((await call("DELETE", `/v2/scrape/${jobId}/interact`)).status).toBe(200);
    expect((await call("GET", `/v2/scrape/${jobId}/interact/files`)).body.files).toEqual(files);
  });

  test("a download clicked by agent-browser in bash is kept", async () => {
    const id = await browserSession();
    await run(id, "bash", "agent-browser click '#bin'");
    const files = await filesOnceThere(`/v2/browser/${id}/files`, 1);
    expect(files).toEqual([expect.objectContaining({ name: "data.bin", state: "completed" })]);
    expect((await fetchBytes(files[0].url)).bytes.equals(BINARY_DOWNLOAD)).toBe(true);
    await call("DELETE", `/v2/browser/${id}`);
  });

  test("a download the agent clicks for a prompt is kept", async () => {
    const scraped = await call("POST", "/v2/scrape", { url: `${site.url}/downloads` });
    const jobId: string = scraped.body.data.metadata.scrapeId;
    model.script([
      (req) => modelCall("click", { ref: refOf(req, 'link "binary"') }),
      () => modelCall("done", { answer: "downloaded" }),
    ]);
    const res = await call("POST", `/v2/scrape/${jobId}/interact`, {
      prompt: "Download the binary file",
      timeout: 60,
    });
    expect(res.body, JSON.stringify(res.body)).toMatchObject({ success: true });
    const files = await filesOnceThere(`/v2/scrape/${jobId}/interact/files`, 1);
    expect(files).toEqual([expect.objectContaining({ name: "data.bin", state: "completed" })]);
    expect((await fetchBytes(files[0].url)).bytes.equals(BINARY_DOWNLOAD)).toBe(true);
    await call("DELETE", `/v2/scrape/${jobId}/interact`);
  });

  test("a download from the user's own CDP client is kept, and so are later ones once it has left", async () => {
    const made = await call("POST", "/v2/browser", { ttl: 300 });
    const id: string = made.body.id;
    const browser = await chromium.connectOverCDP(made.body.cdpUrl);
    try {
      const page = browser.contexts()[0]!.pages()[0]!;
      await page.goto(`${site.url}/downloads`);
      const [d] = await Promise.all([page.waitForEvent("download"), page.click("#bin")]);
      expect(d.suggestedFilename()).toBe("data.bin");
      expect(await d.failure()).toBeNull();
    } finally {
      await browser.close();
    }
    const [first] = await filesOnceThere(`/v2/browser/${id}/files`, 1);
    expect((await fetchBytes(first.url)).bytes.equals(BINARY_DOWNLOAD)).toBe(true);
    // Chromium forgets a departed client's download setting; the server puts its own back.
    expect(JSON.parse((await node(id, clickDownload("#dl"))).result).failure).toBeNull();
    const files = await filesOnceThere(`/v2/browser/${id}/files`, 2);
    expect(files[1]).toMatchObject({ name: "report.csv", state: "completed" });
    await call("DELETE", `/v2/browser/${id}`);
  });

  test("a download past SESSION_DOWNLOADS_MB fails in the browser and is listed as failed", async () => {
    const id = await browserSession();
    const big = JSON.parse((await node(id, clickDownload("#big"))).result);
    expect(big).toEqual({ name: "big.bin", failure: "canceled" });
    const files = await filesOnceThere(`/v2/browser/${id}/files`, 1);
    expect(files).toEqual([
      expect.objectContaining({ name: "big.bin", state: "failed", url: null }),
    ]);
    expect(files[0].error).toContain("SESSION_DOWNLOADS_MB");
    // What fits still goes through.
    expect(JSON.parse((await node(id, clickDownload("#dl"))).result).failure).toBeNull();
    const more = await filesOnceThere(`/v2/browser/${id}/files`, 2);
    expect(more[1]).toMatchObject({ name: "report.csv", state: "completed" });
    await call("DELETE", `/v2/browser/${id}`);
  });

  test("names from the page are only metadata: cleaned, never a path on the host", async () => {
    const id = await browserSession();
    const evil = JSON.parse((await node(id, clickDownload("#evil"))).result);
    expect(evil.failure).toBeNull();
    expect(JSON.parse((await node(id, clickDownload("#ctrl"))).result).failure).toBeNull();
    const files = await filesOnceThere(`/v2/browser/${id}/files`, 2);
    for (const f of files) {
      expect(f.state).toBe("completed");
      expect(f.name).not.toMatch(/[/\\]/);
      // eslint-disable-next-line no-control-regex -- what must not be there
      expect(f.name).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
    }
    expect(files[0].name).toContain("passwd");
    const served = await fetchBytes(files[0].url);
    expect(served.bytes.toString()).toBe("root:x:0:0:not really\n");
    const disposition = served.res.headers.get("content-disposition")!;
    expect(disposition).toMatch(/^attachment; filename="[^"/\\]+"; filename\*=UTF-8''\S+$/);
    const ctrl = await fetchBytes(files[1].url);
    expect(ctrl.res.headers.get("content-disposition")).toMatch(/^attachment; filename="[ -~]+"/);
    // The bytes are under generated names only: nothing named by the page on the server's disk.
    const onDisk = fs.readdirSync(server.dataDir, { recursive: true }).map(String);
    expect(onDisk.filter((p) => /passwd|txt\.exe/.test(p))).toEqual([]);
    const kept = fs.readdirSync(path.join(server.dataDir, "files"));
    expect(kept.every((n) => /^[A-Za-z0-9_-]{22}\.(bin|png|jpeg|pdf)$/.test(n))).toBe(true);
    // Their bytes are served only with their name and type, never as a bare stored file.
    const stored = kept.find((n) => n.endsWith(".bin"))!;
    expect((await fetch(`${server.url}/v2/files/${stored}`)).status).toBe(404);
    await call("DELETE", `/v2/browser/${id}`);
  });

  test("files go, bytes and all, once the retention after their session has passed", async () => {
    const id = await browserSession();
    await node(id, clickDownload("#bin"));
    const [file] = await filesOnceThere(`/v2/browser/${id}/files`, 1);
    await call("DELETE", `/v2/browser/${id}`);
    const sevenDays = 7 * 86_400_000;
    // Within the retention, the sweep leaves it.
    await server.services.downloads.sweep(Date.now() + sevenDays - 60_000);
    expect((await fetchBytes(file.url)).res.status).toBe(200);
    // Past it, it goes.
    expect(await server.services.downloads.sweep(Date.now() + sevenDays + 60_000)).toBeGreaterThan(
      0,
    );
    expect((await call("GET", `/v2/browser/${id}/files`)).body.files).toEqual([]);
    expect((await fetchBytes(file.url)).res.status).toBe(404);
  });
});
