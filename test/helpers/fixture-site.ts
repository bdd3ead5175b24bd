import http from "node:http";
import type { AddressInfo } from "node:net";

export interface FixtureSite {
  url: string;
  /** Request headers seen per path, newest last, so tests can check what a browser sent. */
  requests: { path: string; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

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
};

/** Serves the fixture site on a random loopback port. */
export async function startFixtureSite(): Promise<FixtureSite> {
  const requests: FixtureSite["requests"] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push({ path: url.pathname, headers: req.headers });
    if (url.pathname === "/redirect") {
      res.writeHead(302, { location: "/" });
      return res.end();
    }
    if (url.pathname === "/slow") {
      const t = setTimeout(
        () => {
          res.writeHead(200, { "content-type": "text/html" });
          res.end("<html><head><title>Slow</title></head><body>slow</body></html>");
        },
        Number(url.searchParams.get("ms") ?? 10_000),
      );
      res.on("close", () => clearTimeout(t));
      return;
    }
    const page = PAGES[url.pathname];
    if (page === undefined || page === "") {
      res.writeHead(404, { "content-type": "text/html" });
      return res.end(
        "<html><head><title>Not Found</title></head><body><h1>404 nothing here</h1></body></html>",
      );
    }
    const headers: http.OutgoingHttpHeaders = { "content-type": "text/html; charset=utf-8" };
    if (url.pathname === "/") headers["set-cookie"] = "servercookie=fromserver; Path=/";
    res.writeHead(200, headers);
    res.end(page);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
