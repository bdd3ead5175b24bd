import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  call,
  refOf,
  latestSnapshot,
  startFakeModel,
  type FakeModel,
} from "./helpers/fake-model.js";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { pythonSdk, type PythonSdk } from "./helpers/python-sdk.js";
import { closeAll, startTestServer, type TestServer } from "./helpers/server.js";
import { makeTeam } from "./helpers/team-client.js";

let site: FixtureSite;
let model: FakeModel;
let server: TestServer;
/** The SDK as a user without a key calls this server (authentication off). */
let py: PythonSdk;

beforeAll(async () => {
  [site, model] = await Promise.all([startFixtureSite(), startFakeModel()]);
  server = await startTestServer({ OPENAI_BASE_URL: model.baseUrl, MODEL_NAME: "fake-model" });
  py = pythonSdk(server);
});
afterAll(() => closeAll(server, model, site));

/** A snippet line that scrapes the fixture's home page and keeps its id in `sid`. */
const scrapeHome = () => `sid = fc.scrape(${JSON.stringify(`${site.url}/`)}).metadata.scrape_id`;

describe("scrape", () => {
  test("formats and only_main_content come back as the SDK's Document", async () => {
    const doc = await py.value(`
      result = fc.scrape(
          ${JSON.stringify(`${site.url}/`)},
          formats=["markdown", "html", "links", {"type": "screenshot", "full_page": True}],
          only_main_content=True,
      )
    `);
    expect(doc.markdown).toContain("# Hello fixture");
    expect(doc.markdown).toContain("Rendered by JavaScript");
    expect(doc.markdown).not.toContain("Footer text");
    expect(doc.html).toContain(`<a href="${site.url}/about">About us</a>`);
    expect(doc.links).toEqual([`${site.url}/about`, "https://example.org/out"]);
    expect(doc.raw_html).toBeNull();
    const shot = await fetch(doc.screenshot);
    expect(shot.status).toBe(200);
    expect(shot.headers.get("content-type")).toBe("image/png");
    expect(doc.metadata).toMatchObject({
      title: "Fixture Home",
      description: "A local page for tests",
      source_url: `${site.url}/`,
      url: `${site.url}/`,
      status_code: 200,
      proxy_used: "basic",
      cache_state: "miss",
      credits_used: 1,
    });
    expect(doc.metadata.scrape_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("only_main_content=False keeps the page's navigation and footer", async () => {
    const doc = await py.value(
      `result = fc.scrape(${JSON.stringify(`${site.url}/`)}, formats=["markdown"], only_main_content=False)`,
    );
    expect(doc.markdown).toContain("Footer text");
    expect(doc.markdown).toContain("Nav link");
  });

  test("wait_for gives late JavaScript time to render", async () => {
    // The late content appears 3 s after load.
    const doc = await py.value(
      `result = fc.scrape(${JSON.stringify(`${site.url}/delayed`)}, wait_for=4000, timeout=10000)`,
    );
    expect(doc.markdown).toContain("Early content");
    expect(doc.markdown).toContain("Late content");
  });

  test("location and mobile shape the browser the page sees", async () => {
    const doc = await py.value(`
      result = fc.scrape(
          ${JSON.stringify(`${site.url}/env`)},
          formats=["markdown"],
          location={"country": "DE", "languages": ["de-DE"]},
          mobile=True,
      )
    `);
    expect(doc.markdown).toContain("tz=Europe/Berlin");
    expect(doc.markdown).toContain("lang=de-DE");
    expect(doc.markdown).toContain("iPhone");
  });

  test("a page's own meta tags fit the SDK's typed metadata", async () => {
    const doc = await py.value(`result = fc.scrape(${JSON.stringify(`${site.url}/meta`)})`);
    expect(doc.metadata).toMatchObject({
      title: "Meta Page",
      description: "Meta description",
      og_title: "OG Meta Title",
      og_locale: "en_GB",
      og_locale_alternate: ["fr_FR", "de_DE"],
      keywords: "alpha, beta",
      status_code: 200,
    });
  });

  test("a second scrape of the same page is a cache hit, and scrape_url is scrape", async () => {
    const url = JSON.stringify(`${site.url}/article`);
    const [first, second] = await py.value(`
      result = [fc.scrape(${url}, formats=["markdown"]), fc.scrape_url(${url}, formats=["markdown"])]
    `);
    expect(first.metadata.cache_state).toBe("miss");
    expect(second.metadata.cache_state).toBe("hit");
    expect(second.markdown).toBe(first.markdown);
  });

  test("a scrape with a profile leaves its cookies to a browser session opening the profile", async () => {
    const names = await py.value(`
      fc.scrape(${JSON.stringify(`${site.url}/`)}, profile={"name": "py-home"})
      session = fc.browser(profile={"name": "py-home", "save_changes": False})
      run = fc.browser_execute(
          session.id,
          "(await page.context().cookies()).map((c) => c.name).sort().join(',')",
          language="node",
      )
      fc.delete_browser(session.id)
      result = run.result
    `);
    expect(names).toBe("scriptcookie,servercookie");
  });

  test("a request the server refuses raises BadRequestError with the server's message", async () => {
    const raised = await py.raised(
      `fc.scrape(${JSON.stringify(`${site.url}/`)}, formats=["summary"])`,
    );
    expect(raised.type).toBe("BadRequestError");
    expect(raised.classes).toContain("FirecrawlError");
    expect(raised.statusCode).toBe(400);
    expect(raised.message).toMatch(/^Bad Request: Failed to scrape\. .*needs an LLM/);
  });

  test("a certificate the scrape refuses raises TLSError (Firecrawl's SCRAPE_SSL_ERROR)", async () => {
    const raised = await py.raised(
      `fc.scrape(${JSON.stringify(`${site.httpsUrl}/meta`)}, skip_tls_verification=False)`,
    );
    expect(raised.type).toBe("TLSError");
    expect(raised.classes).toContain("FirecrawlError");
  });
});

describe("interact", () => {
  test("node (the default), python and bash on the scrape's page, then stop", async () => {
    const out = await py.value(`
      ${scrapeHome()}
      node = fc.interact(sid, "const title = await page.title(); JSON.stringify({ title });")
      python = fc.interact(sid, "await page.title()", language="python")
      bash = fc.interact(sid, "agent-browser get title", language="bash")
      stopped = fc.stop_interaction(sid)
      result = {"node": node, "python": python, "bash": bash, "stopped": stopped}
    `);
    expect(out.node).toMatchObject({
      success: true,
      result: '{"title":"Fixture Home"}',
      exit_code: 0,
      killed: false,
    });
    expect(out.node.cdp_url).toMatch(/^ws:\/\/.+\/cdp\//);
    expect(out.node.live_view_url).toMatch(/\/live\//);
    expect(out.node.interactive_live_view_url).not.toBe(out.node.live_view_url);
    expect(out.python).toMatchObject({ success: true, result: "Fixture Home", exit_code: 0 });
    expect(out.bash).toMatchObject({ success: true, exit_code: 0 });
    expect(out.bash.stdout.trim()).toBe("Fixture Home");
    expect(out.stopped).toMatchObject({ success: true, status: "stopped" });
    expect(out.stopped.session_duration_ms).toBeGreaterThan(0);
  });

  test("the deprecated names do the same: scrape_execute, stop_interactive_browser, delete_scrape_browser", async () => {
    const out = await py.value(`
      ${scrapeHome()}
      first = fc.scrape_execute(sid, "page.url()")
      stopped = fc.stop_interactive_browser(sid)
      ${scrapeHome()}
      fc.scrape_execute(sid, "page.url()")
      deleted = fc.delete_scrape_browser(sid)
      result = {"first": first, "stopped": stopped, "deleted": deleted}
    `);
    expect(out.first).toMatchObject({ success: true, result: `${site.url}/` });
    expect(out.stopped).toMatchObject({ success: true, status: "stopped" });
    expect(out.deleted).toMatchObject({ success: true, status: "stopped" });
  });

  test("a prompt: the agent clicks, and its answer is the output", async () => {
    model.script([
      (req) => call("click", { ref: refOf(req, 'button "Click me"') }),
      (req) =>
        call("done", {
          answer: latestSnapshot(req).includes('button "clicked"') ? "it says clicked" : "?",
        }),
    ]);
    const run = await py.value(`
      ${scrapeHome()}
      result = fc.interact(sid, prompt="Click the button and tell me what it says", timeout=60)
      fc.stop_interaction(sid)
    `);
    expect(run).toMatchObject({ success: true, output: "it says clicked", exit_code: 0 });
    expect(run.stdout).toMatch(/\[1\] click e\d+/);
  });

  test("a script that exits non-zero raises FirecrawlError with the server's error", async () => {
    const raised = await py.raised(`
      ${scrapeHome()}
      try:
          fc.interact(sid, "echo partial; exit 3", language="bash")
      finally:
          fc.stop_interaction(sid)
    `);
    // The SDK raises on success: false without the HTTP status (the answer is a 200).
    expect(raised).toMatchObject({
      type: "FirecrawlError",
      message: "Exited with code 3",
      statusCode: null,
    });
  });

  test("an unknown scrape is a FirecrawlError naming the 404 and the server's message", async () => {
    const raised = await py.raised(
      `fc.interact("00000000-0000-4000-8000-000000000000", "page.url()")`,
    );
    expect(raised).toMatchObject({ type: "FirecrawlError", statusCode: 404 });
    expect(raised.message).toBe(
      "Unexpected error during interact with scrape browser: Status code 404. Job not found. " +
        "- No additional error details provided.",
    );
  });

  test("a stopped session is a FirecrawlError carrying the 410 and the server's message", async () => {
    const raised = await py.raised(`
      ${scrapeHome()}
      fc.interact(sid, "1")
      fc.stop_interaction(sid)
      fc.interact(sid, "1")
    `);
    expect(raised).toMatchObject({
      type: "FirecrawlError",
      statusCode: 410,
      message: "Browser session has been destroyed.",
    });
  });

  test("a language the server does not run raises BadRequestError", async () => {
    const raised = await py.raised(`
      ${scrapeHome()}
      fc.interact(sid, "puts 1", language="ruby")
    `);
    expect(raised).toMatchObject({ type: "BadRequestError", statusCode: 400 });
    expect(raised.message).toContain("language");
  });
});

describe("browser sessions", () => {
  test("browser(), browser_execute in bash, node and python, list_browsers, delete_browser", async () => {
    const out = await py.value(`
      created = fc.browser(ttl=120, activity_ttl=60, stream_web_view=True)
      sid = created.id
      blank = fc.browser_execute(sid, "page.url()", language="node")
      fc.browser_execute(sid, ${JSON.stringify(`await page.goto(${JSON.stringify(`${site.url}/`)})`)}, language="node")
      bash = fc.browser_execute(sid, "agent-browser get title")
      python = fc.browser_execute(sid, "await page.title()", language="python")
      active = fc.list_browsers(status="active")
      deleted = fc.delete_browser(sid)
      destroyed = fc.list_browsers(status="destroyed")
      result = {"created": created, "blank": blank, "bash": bash, "python": python,
                "active": active, "deleted": deleted, "destroyed": destroyed}
    `);
    const { created } = out;
    expect(created).toMatchObject({ success: true, id: expect.any(String) });
    expect(created.cdp_url).toMatch(/^ws:\/\/.+\/cdp\//);
    expect(created.live_view_url).toMatch(/\/live\//);
    expect(Date.parse(created.expires_at)).toBeGreaterThan(Date.now());
    expect(out.blank).toMatchObject({ success: true, result: "about:blank", exit_code: 0 });
    expect(out.bash.stdout.trim()).toBe("Fixture Home");
    expect(out.python).toMatchObject({ success: true, result: "Fixture Home" });

    const listed = out.active.sessions.find((s: any) => s.id === created.id);
    expect(listed).toMatchObject({
      status: "active",
      cdp_url: created.cdp_url,
      stream_web_view: true,
    });
    expect(out.deleted).toMatchObject({ success: true, status: "stopped" });
    expect(out.deleted.session_duration_ms).toBeGreaterThan(0);
    expect(out.destroyed.sessions.map((s: any) => s.id)).toContain(created.id);
  });

  test("a deleted session is a FirecrawlError carrying the 410", async () => {
    const raised = await py.raised(`
      sid = fc.browser().id
      fc.delete_browser(sid)
      fc.browser_execute(sid, "page.url()", language="node")
    `);
    expect(raised).toMatchObject({ type: "FirecrawlError", statusCode: 410 });
  });
});

test("get_credit_usage without authentication: an unmetered balance", async () => {
  const usage = await py.value("result = fc.get_credit_usage()");
  expect(usage).toMatchObject({ remaining_credits: 99_999_999 });
});

describe("with authentication on", () => {
  let authed: TestServer;
  beforeAll(async () => {
    authed = await startTestServer({
      USE_DB_AUTHENTICATION: "true",
      ALLOW_PRIVATE_NETWORK: "true",
    });
  });
  afterAll(() => closeAll(authed));

  test("a team's key scrapes, interacts, opens a browser and reads its credits", async () => {
    const team = await makeTeam(authed, "py-sdk", 100);
    const out = await pythonSdk(authed, team.key).value(`
      before = fc.get_credit_usage()
      ${scrapeHome()}
      run = fc.interact(sid, "await page.title()")
      stopped = fc.stop_interaction(sid)
      session = fc.browser()
      executed = fc.browser_execute(session.id, "page.url()", language="node")
      deleted = fc.delete_browser(session.id)
      after = fc.get_credit_usage()
      result = {"before": before, "run": run, "stopped": stopped, "executed": executed,
                "deleted": deleted, "after": after}
    `);
    expect(out.before).toMatchObject({ remaining_credits: 100 });
    expect(out.run).toMatchObject({ success: true, result: "Fixture Home" });
    expect(out.stopped).toMatchObject({ success: true, status: "stopped" });
    expect(out.executed).toMatchObject({ success: true, result: "about:blank" });
    expect(out.deleted).toMatchObject({ success: true, status: "stopped" });
    // One credit for the scrape, then what each session was billed.
    expect(out.stopped.credits_billed).toBeGreaterThan(0);
    expect(out.deleted.credits_billed).toBeGreaterThan(0);
    expect(out.after.remaining_credits).toBe(
      100 - 1 - out.stopped.credits_billed - out.deleted.credits_billed,
    );
  });

  test("the usage methods: concurrency, queue, tokens and the history per key", async () => {
    const team = await makeTeam(authed, "py-sdk-usage", 100);
    const out = await pythonSdk(authed, team.key).value(`
      session = fc.browser(block_ads=True, location={"country": "DE"})
      concurrency = fc.get_concurrency()
      queue = fc.get_queue_status()
      fc.delete_browser(session.id)
      tokens = fc.get_token_usage()
      credits_history = fc.v2.get_credit_usage_historical(by_api_key=True)
      tokens_history = fc.v2.get_token_usage_historical()
      result = {"concurrency": concurrency, "queue": queue, "tokens": tokens,
                "credits_history": credits_history, "tokens_history": tokens_history}
    `);
    expect(out.concurrency).toMatchObject({ concurrency: 1 });
    expect(out.concurrency.max_concurrency).toBeGreaterThan(0);
    expect(out.queue).toMatchObject({ jobs_in_queue: 1, active_jobs_in_queue: 1 });
    // Firecrawl's tokens: 15 to a credit; the session's bill is in the history, under its key.
    expect(out.tokens.remaining_tokens % 15).toBe(0);
    const spent = out.credits_history.periods;
    expect(spent.length).toBeGreaterThan(0);
    expect(spent.at(-1)).toMatchObject({ apiKey: expect.any(String) });
    expect(spent.at(-1).creditsUsed).toBeGreaterThan(0);
    expect(out.tokens_history.periods.at(-1).tokensUsed).toBe(spent.at(-1).creditsUsed * 15);
  });

  test("a team without credits: PaymentRequiredError, before anything runs", async () => {
    const team = await makeTeam(authed, "py-sdk-broke", 0);
    const raised = await pythonSdk(authed, team.key).raised(
      `fc.scrape(${JSON.stringify(`${site.url}/`)})`,
    );
    expect(raised).toMatchObject({ type: "PaymentRequiredError", statusCode: 402 });
    expect(raised.message).toBe(
      "Payment Required: Failed to scrape. Insufficient credits to perform this request: " +
        "a scrape needs 1 credit and the team has 0. - {'needed': 1, 'available': 0}",
    );
  });

  test("no key or a wrong one raises UnauthorizedError", async () => {
    for (const key of [undefined, "fc-not-a-key"]) {
      const raised = await pythonSdk(authed, key).raised("fc.get_credit_usage()");
      expect(raised).toMatchObject({ type: "UnauthorizedError", statusCode: 401 });
      expect(raised.message).toMatch(/^Unauthorized: Failed to get credit usage\./);
    }
  });
});
