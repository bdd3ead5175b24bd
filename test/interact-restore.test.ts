import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { interact, scrapeId, stop } from "./helpers/interact.js";
import { postJson, startTestServer, type TestServer, closeAll } from "./helpers/server.js";

/** A small site with a login, a header echo and storage that is only set once. */
function startLoginSite(): Promise<{ url: string; close(): Promise<void> }> {
  const page = (title: string, body: string) =>
    `<!doctype html><html><head><title>${title}</title></head><body>${body}</body></html>`;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const cookies = req.headers.cookie ?? "";
    const html = (s: string) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(s);
    };
    if (url.pathname === "/login" && req.method === "POST") {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const user = new URLSearchParams(body).get("user") ?? "";
        res.writeHead(302, {
          location: "/account",
          "set-cookie": `auth=${encodeURIComponent(user)}; Path=/; HttpOnly`,
        });
        res.end();
      });
      return;
    }
    if (url.pathname === "/login") {
      return html(
        page(
          "Login",
          `<form method="post" action="/login"><input id="user" name="user">` +
            `<button id="submit" type="submit">Log in</button></form>`,
        ),
      );
    }
    if (url.pathname === "/account") {
      const m = /(?:^|; )auth=([^;]*)/.exec(cookies);
      return html(page("Account", m ? `Welcome ${decodeURIComponent(m[1]!)}` : "Please log in"));
    }
    if (url.pathname === "/echo") {
      return html(page("Echo", `<pre id="h">${JSON.stringify(req.headers)}</pre>`));
    }
    if (url.pathname === "/storage") {
      return html(
        page(
          "Storage",
          `<script>
            if (!localStorage.getItem('token')) localStorage.setItem('token', String(Math.random()));
            if (!sessionStorage.getItem('tab')) sessionStorage.setItem('tab', String(Math.random()));
          </script>`,
        ),
      );
    }
    res.writeHead(404);
    res.end();
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise((r) => server.close(() => r())),
      }),
    ),
  );
}

let server: TestServer;
let site: Awaited<ReturnType<typeof startLoginSite>>;
beforeAll(async () => {
  site = await startLoginSite();
  server = await startTestServer();
});
afterAll(() => closeAll(server, site));

test("a login made by the scrape's actions is still logged in", async () => {
  const id = await scrapeId(server.url, {
    url: `${site.url}/login`,
    actions: [
      { type: "click", selector: "#user" },
      { type: "write", text: "alice" },
      { type: "click", selector: "#submit" },
      { type: "wait", milliseconds: 500 },
    ],
  });
  const res = await interact(server.url, id, {
    code: "await page.reload(); [page.url(), await page.textContent('body')].join(' | ')",
  });
  expect(res.body.result).toBe(`${site.url}/account | Welcome alice`);
  await stop(server.url, id);
});

test("a form filled by the scrape's actions is still filled", async () => {
  const id = await scrapeId(server.url, {
    url: `${site.url}/login`,
    actions: [
      { type: "click", selector: "#user" },
      { type: "write", text: "bob" },
    ],
  });
  const res = await interact(server.url, id, { code: "await page.inputValue('#user')" });
  expect(res.body.result).toBe("bob");
  await stop(server.url, id);
});

test("a custom header sent by the scrape is still sent on reload", async () => {
  const id = await scrapeId(server.url, {
    url: `${site.url}/echo`,
    headers: { "X-Fixture": "abc123" },
  });
  const res = await interact(server.url, id, {
    code: "await page.reload(); JSON.parse(await page.textContent('#h'))['x-fixture']",
  });
  expect(res.body.result).toBe("abc123");
  await stop(server.url, id);
});

test("localStorage and sessionStorage come back with the scrape's values", async () => {
  const scraped = await postJson(`${server.url}/v2/scrape`, {
    url: `${site.url}/storage`,
    actions: [
      {
        type: "executeJavascript",
        script: "JSON.stringify([localStorage.getItem('token'), sessionStorage.getItem('tab')])",
      },
    ],
  });
  expect(scraped.status).toBe(200);
  const atScrape = scraped.body.data.actions.javascriptReturns[0].value;
  const id = scraped.body.data.metadata.scrapeId;
  const res = await interact(server.url, id, {
    code: "await page.evaluate(() => JSON.stringify([localStorage.getItem('token'), sessionStorage.getItem('tab')]))",
  });
  expect(res.body.result).toBe(atScrape);
  await stop(server.url, id);
});

test("viewport, mobile and locale follow the scrape", async () => {
  const id = await scrapeId(server.url, {
    url: `${site.url}/echo`,
    mobile: true,
    location: { country: "DE", languages: ["de-DE"] },
  });
  const res = await interact(server.url, id, {
    code:
      "await page.evaluate(() => JSON.stringify({w: screen.width, ua: navigator.userAgent, lang: navigator.language, " +
      "tz: Intl.DateTimeFormat().resolvedOptions().timeZone}))",
  });
  expect(res.body, JSON.stringify(res.body)).toMatchObject({ success: true });
  const seen = JSON.parse(res.body.result);
  expect(seen.w).toBeLessThan(500);
  expect(seen.ua).toMatch(/Mobile/);
  expect(seen.lang).toBe("de-DE");
  expect(seen.tz).toBe("Europe/Berlin");
  await stop(server.url, id);
});
