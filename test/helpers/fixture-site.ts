import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";

/** What /download/data.bin serves: every byte value, many times over (64 KiB). */
export const BINARY_DOWNLOAD = Buffer.from(Array.from({ length: 65_536 }, (_, i) => (i * 7) % 256));
/** The length /download/big.bin announces (a quarter of it is sent, then nothing). */
export const BIG_DOWNLOAD_BYTES = 8 * 1024 * 1024;

export interface FixtureRequest {
  path: string;
  /** The query string without "?", "" when none. */
  query: string;
  method: string;
  headers: http.IncomingHttpHeaders;
  /** True once the client went away before the answer was complete (a stopped scrape). */
  aborted?: boolean;
}

export interface FixtureSite {
  url: string;
  /** The same pages over HTTPS with a self-signed certificate (for TLS tests). */
  httpsUrl: string;
  /** Requests seen, newest last, so tests can check what a browser sent. */
  requests: FixtureRequest[];
  close(): Promise<void>;
}

/**
 * A self-signed certificate for localhost and 127.0.0.1, valid until 2126, used only by the
 * HTTPS side of this fixture so TLS tests need no tool to make one.
 */
const TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgRLsyZldyjV4bL9X8
qT/5NWVh9WPwneEpEB3CKN0rEwChRANCAASpOzBUP7HYA0k24ueCV40BtOr2iiAW
TE421Lv/ONEUodUK6Cgw7lNb/p63Cks+f2Yc0o09P+E6OhanvNGH2Frb
-----END PRIVATE KEY-----
`;
const TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUNyGySnjwkD0OyCosIEnI0CGcuywwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyMTA1NTQwOVoYDzIxMjYxMDI4
MDU1NDA5WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASpOzBUP7HYA0k24ueCV40BtOr2iiAWTE421Lv/ONEUodUK6Cgw7lNb
/p63Cks+f2Yc0o09P+E6OhanvNGH2Frbo28wbTAdBgNVHQ4EFgQUat8qf1H+KcED
IZTCqqYR9knPunIwHwYDVR0jBBgwFoAUat8qf1H+KcEDIZTCqqYR9knPunIwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDSAAwRQIgYGJ6VplA/ODlRPgitKK3d/QMo7M0K4fS42b1a+ojwUECIQCn
XJEfaGxBLLhU2/d0dhfCIp4l9QQCaucXz9lji9QA9g==
-----END CERTIFICATE-----
`;

/** A 1x1 transparent PNG, served for every image path. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
  "base64",
);

const page = (title: string, body: string, head = "") =>
  `<!doctype html><html lang="en"><head><title>${title}</title>${head}</head><body>${body}</body></html>`;

const PAGES: Record<string, string> = {
  "/": `<!doctype html>
<html lang="en"><head><title>Fixture Home</title>
<meta name="description" content="A local page for tests">
<meta name="keywords" content="fixture, tests">
<meta property="og:title" content="Fixture OG Title">
<link rel="icon" href="/favicon.ico">
</head><body>
<nav><a href="/nav-link">Nav link</a></nav>
<main><h1>Hello fixture</h1><p>Main content paragraph.</p>
<a href="/about">About us</a> <a href="https://example.org/out">Outside</a>
<img src="/img/cat.png" alt="cat">
<div id="js"></div>
<button id="btn" onclick="this.textContent='clicked'">Click me</button>
</main>
<footer>Footer text</footer>
<script>
  document.getElementById('js').textContent = 'Rendered by JavaScript';
  document.cookie = 'scriptcookie=fromjs; path=/';
  localStorage.setItem('lskey', 'lsvalue');
</script>
</body></html>`,
  "/form": `<!doctype html><html><head><title>Form</title></head><body><main>
<form id="f" action="/login" method="post">
<input id="user" name="user"><input id="pass" name="pass" type="password">
<button id="submit" type="submit">Log in</button></form></main></body></html>`,
  "/slow": "",
  "/redirect": "",

  // Everything below is for the scrape tests.
  "/meta": `<!doctype html>
<html lang="en-GB"><head><title>  Meta Page  </title>
<meta charset="utf-8">
<meta name="description" content="Meta description">
<meta name="keywords" content="alpha, beta">
<meta name="robots" content="index, follow">
<meta property="og:title" content="OG Meta Title">
<meta property="og:description" content="OG meta description">
<meta property="og:url" content="https://example.com/meta">
<meta property="og:image" content="https://example.com/og.png">
<meta property="og:site_name" content="Fixture Site">
<meta property="og:locale" content="en_GB">
<meta property="og:locale:alternate" content="fr_FR">
<meta property="og:locale:alternate" content="de_DE">
<meta name="twitter:card" content="summary">
<meta name="author" content="Fixture Author">
<link rel="shortcut icon" href="/static/icon.png">
</head><body><main><p>Meta body</p></main></body></html>`,
  // One colour filling the window: a recording of it decodes to that colour. The word in the
  // same colour makes it contentful, so Chromium shows it at once (no paint holding).
  "/red": page(
    "Red",
    "red",
    "<style>html,body{margin:0;height:100%;background:#f00;color:#f00}</style>",
  ),
  "/blue": page(
    "Blue",
    "blue",
    "<style>html,body{margin:0;height:100%;background:#00f;color:#00f}</style>",
  ),
  // Repaints all the time (a box sliding across): what a recording of a busy page costs.
  "/animated": page(
    "Animated",
    '<div id="box"></div>',
    "<style>html,body{margin:0;height:100%;background:#fff}" +
      "#box{position:absolute;top:40%;width:120px;height:120px;background:#08f;" +
      "animation:slide 2s linear infinite alternate}" +
      "@keyframes slide{from{left:0}to{left:calc(100% - 120px)}}</style>",
  ),
  "/article": page(
    "Article",
    `<header class="site"><a href="/home">Site header link</a></header>
<nav><a href="/n1">Nav one</a></nav>
<div class="sidebar"><a href="/side">Sidebar link</a></div>
<main>
  <article>
    <header><h1>Article Title</h1></header>
    <p class="lead">Lead paragraph with <a href="/more">a relative link</a>.</p>
    <div class="promo">Promo block</div>
    <table><thead><tr><th>Name</th><th>Qty</th></tr></thead>
      <tbody><tr><td>Apple</td><td>3</td></tr><tr><td>Pear</td><td>5</td></tr></tbody></table>
    <ul><li>First item</li><li>Second item</li></ul>
    <img srcset="/img/small.png 1x, /img/large.png 2x" src="/img/small.png" alt="pic">
  </article>
</main>
<aside>Aside text</aside>
<footer>Site footer</footer>`,
  ),
  "/headers": "",
  "/env": page(
    "Env",
    `<meta name="viewport" content="width=device-width, initial-scale=1"><main><p id="out"></p><img src="/pixel.png?from=env" alt="px"></main>
<script>
  document.getElementById('out').textContent = [
    'ua=' + navigator.userAgent,
    'width=' + window.innerWidth,
    'tz=' + Intl.DateTimeFormat().resolvedOptions().timeZone,
    'lang=' + navigator.language,
  ].join(' | ');
</script>`,
  ),
  "/delayed": page(
    "Delayed",
    `<main><p>Early content</p><div id="slot"></div></main>
<script>
  setTimeout(() => {
    document.getElementById('slot').innerHTML = '<p id="late">Late content</p>';
  }, 3000);
</script>`,
  ),
  "/base64": page(
    "Base64",
    `<main><p>Inline image below</p>
<img alt="dot" src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="></main>`,
  ),
  "/ads": page(
    "Ads",
    `<main><p>Article with ads</p><div id="ad-slot">no ad</div></main>
<script src="/pagead/js/adsbygoogle.js"></script>`,
  ),
  "/pagead/js/adsbygoogle.js": "",
  "/scroll": page(
    "Scroll",
    `<main><div style="height: 3000px">Tall content</div><div id="more"></div></main>
<script>
  window.addEventListener('scroll', () => {
    if (window.scrollY > 200) document.getElementById('more').textContent = 'More content loaded';
  });
</script>`,
  ),
  "/signin-form": page(
    "Sign in",
    `<main><form action="/signin" method="post">
<input id="name" name="name"><button id="go" type="submit">Go</button></form>
<button id="note" onclick="document.getElementById('msg').textContent='noted'">Note</button>
<p id="msg"></p></main>`,
  ),
  "/storage": page(
    "Storage",
    `<main><p>storage page</p></main>
<script>
  localStorage.setItem('theme', 'dark');
  sessionStorage.setItem('tab', 'one');
</script>`,
  ),
  "/buttons": page(
    "Buttons",
    `<main><p id="count">count=0</p>
<button class="inc">one</button><button class="inc">two</button><button class="inc">three</button></main>
<script>
  let n = 0;
  for (const b of document.querySelectorAll('.inc')) {
    b.addEventListener('click', () => { document.getElementById('count').textContent = 'count=' + ++n; });
  }
</script>`,
  ),
  "/error500": "",
  "/embed": "",
};

function serve(req: http.IncomingMessage, res: http.ServerResponse, log: FixtureRequest[]): void {
  const url = new URL(req.url ?? "/", "http://x");
  const entry: FixtureRequest = {
    path: url.pathname,
    query: url.search.slice(1),
    method: req.method ?? "GET",
    headers: req.headers,
  };
  log.push(entry);
  res.on("close", () => {
    if (!res.writableFinished) entry.aborted = true;
  });
  const html = (status: number, body: string, extra: http.OutgoingHttpHeaders = {}) => {
    res.writeHead(status, { "content-type": "text/html; charset=utf-8", ...extra });
    res.end(body);
  };
  switch (url.pathname) {
    case "/redirect":
      res.writeHead(302, { location: "/" });
      return void res.end();
    case "/redirect-to":
      res.writeHead(302, { location: url.searchParams.get("url") ?? "/" });
      return void res.end();
    case "/slow": {
      const t = setTimeout(
        () => html(200, "<html><head><title>Slow</title></head><body>slow</body></html>"),
        Number(url.searchParams.get("ms") ?? 10_000),
      );
      res.on("close", () => clearTimeout(t));
      return;
    }
    case "/headers": {
      const shown = JSON.stringify(req.headers, null, 1).replace(/</g, "&lt;");
      return html(
        200,
        page(
          "Headers",
          `<main><pre id="headers">${shown}</pre><img src="/pixel.png?from=headers"></main>`,
        ),
      );
    }
    case "/embed": {
      // An image from anywhere (?src=...), for subresource tests.
      const src = (url.searchParams.get("src") ?? "/pixel.png").replace(/"/g, "&quot;");
      return html(
        200,
        page("Embed", `<main><p>Embedding page</p><img src="${src}" alt="x"></main>`),
      );
    }
    case "/many-elements": {
      // A heavy page: ?n= small elements (300,000 make about 8.4 MB), last one marked. With
      // ?tamper, its script breaks the built-in a size count in the page would use.
      const n = Math.min(Number(url.searchParams.get("n") ?? 300_000) || 0, 2_000_000);
      const tamper = url.searchParams.has("tamper")
        ? "<script>TextEncoder.prototype.encode = () => new Uint8Array(0);</script>"
        : "";
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.write(
        `<!doctype html><html><head><title>Many elements</title>${tamper}</head><body><main>`,
      );
      const rows: string[] = [];
      for (let i = 0; i < n; i++) {
        rows.push(`<div>Item number ${i}</div>`);
        if (rows.length === 10_000) res.write(rows.splice(0).join(""));
      }
      return void res.end(rows.join("") + "<p>The last element</p></main></body></html>");
    }
    case "/error500":
      return html(500, page("Server Error", "<main><h1>Something broke</h1></main>"));
    case "/pagead/js/adsbygoogle.js":
      res.writeHead(200, { "content-type": "text/javascript" });
      return void res.end("document.getElementById('ad-slot').textContent = 'AD LOADED';");
    case "/data.json":
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end('{"name":"fixture","items":[1,2]}');
    case "/downloads":
      return html(
        200,
        page(
          "Downloads",
          `<main><a id="dl" href="/report.csv">report</a>
<a id="bin" href="/download/data.bin">binary</a>
<a id="big" href="/download/big.bin">big</a>
<a id="evil" href="/download/evil">evil</a>
<a id="ctrl" href="/download/ctrl">control</a></main>`,
        ),
      );
    case "/download/data.bin":
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-disposition": 'attachment; filename="data.bin"',
      });
      return void res.end(BINARY_DOWNLOAD);
    case "/download/big.bin":
      // Says it is BIG_DOWNLOAD_BYTES long, sends a part and waits: only a cancel ends it.
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-disposition": 'attachment; filename="big.bin"',
        "content-length": String(BIG_DOWNLOAD_BYTES),
      });
      return void res.write(Buffer.alloc(BIG_DOWNLOAD_BYTES / 4, 7));
    case "/download/evil":
      res.writeHead(200, {
        "content-type": "text/plain",
        "content-disposition": 'attachment; filename="../../etc/passwd"',
      });
      return void res.end("root:x:0:0:not really\n");
    case "/download/ctrl":
      res.writeHead(200, {
        "content-type": "text/plain",
        "content-disposition": "attachment; filename*=UTF-8''a%1B%5B31m%07b%E2%80%AEtxt.exe",
      });
      return void res.end("control characters\n");
    case "/report.csv":
      res.writeHead(200, {
        "content-type": "text/csv",
        "content-disposition": 'attachment; filename="report.csv"',
      });
      return void res.end("id,name\n1,fixture\n");
    case "/signin":
      return html(200, page("Signed in", "<main><h1>Welcome back</h1></main>"));
    case "/login": {
      // The /form page posts here: a server-side login with an HttpOnly session cookie.
      if (req.method !== "POST") return html(405, page("Login", "<main>POST only</main>"));
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const user = new URLSearchParams(body).get("user") ?? "";
        res.writeHead(303, {
          location: "/account",
          "set-cookie": `session=${encodeURIComponent(user)}; Path=/; HttpOnly; Max-Age=3600`,
        });
        res.end();
      });
      return;
    }
    case "/account": {
      const cookie = /(?:^|;\s*)session=([^;]*)/.exec(req.headers.cookie ?? "");
      const who = cookie ? decodeURIComponent(cookie[1]!) : "";
      const text = who ? `Signed in as ${who.replace(/[<&]/g, "")}` : "Signed out";
      return html(200, page("Account", `<main><p id="who">${text}</p></main>`));
    }
  }
  if (url.pathname === "/favicon.ico" || /\.png$/.test(url.pathname)) {
    res.writeHead(200, { "content-type": "image/png" });
    return void res.end(PNG);
  }
  const body = PAGES[url.pathname];
  if (body === undefined || body === "") {
    return html(
      404,
      "<html><head><title>Not Found</title></head><body><h1>404 nothing here</h1></body></html>",
    );
  }
  const headers: http.OutgoingHttpHeaders = {};
  if (url.pathname === "/") headers["set-cookie"] = "servercookie=fromserver; Path=/";
  html(200, body, headers);
}

/** Serves `handle` on random loopback ports, over HTTP and over HTTPS (self-signed). */
export async function serveHttpAndHttps(
  handle: http.RequestListener,
): Promise<{ url: string; httpsUrl: string; close(): Promise<void> }> {
  const server = http.createServer(handle);
  const secure = https.createServer({ key: TLS_KEY, cert: TLS_CERT }, handle);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  await new Promise<void>((r) => secure.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  const { port: securePort } = secure.address() as AddressInfo;
  const stop = (s: http.Server) =>
    new Promise<void>((r) => {
      s.closeAllConnections();
      s.close(() => r());
    });
  return {
    url: `http://127.0.0.1:${port}`,
    httpsUrl: `https://127.0.0.1:${securePort}`,
    close: async () => {
      await Promise.all([stop(server), stop(secure)]);
    },
  };
}

/** Serves the fixture site on random loopback ports, over HTTP and HTTPS. */
export async function startFixtureSite(): Promise<FixtureSite> {
  const requests: FixtureRequest[] = [];
  const site = await serveHttpAndHttps((req, res) => serve(req, res, requests));
  return { ...site, requests };
}
