import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { FixtureSite } from "./helpers/fixture-site.js";
import { startFixtureSite } from "./helpers/fixture-site.js";
import { closeAll, startTestServer, type TestServer, waitFor } from "./helpers/server.js";
import { makeTeam, teamClient } from "./helpers/team-client.js";

let site: FixtureSite;
beforeAll(async () => {
  site = await startFixtureSite();
});
afterAll(() => closeAll(site));

/** /v2/browser calls as one team (a key), or with none while authentication is off. */
const browserApi = (server: TestServer, key?: string) => teamClient(server, key).browser;

/** Logs in through the fixture's form (an HttpOnly cookie) and leaves local and IndexedDB data. */
const LOG_IN = (site: string) => `
  await page.goto(${JSON.stringify(`${site}/form`)});
  await page.fill('#user', 'ada');
  await page.click('#submit');
  await page.waitForURL('**/account');
  await page.evaluate(() => new Promise((resolve, reject) => {
    localStorage.setItem('theme', 'dark');
    const open = indexedDB.open('app', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('kv');
    open.onsuccess = () => {
      const tx = open.result.transaction('kv', 'readwrite');
      tx.objectStore('kv').put('cached-token', 'token');
      tx.oncomplete = () => resolve(true);
      tx.onerror = () => reject(tx.error);
    };
  }));
  await page.textContent('#who');
`;

/** What a new session sees on the site: who is signed in, and the stored data. */
const LOOK = (site: string) => `
  await page.goto(${JSON.stringify(`${site}/account`)});
  const idb = await page.evaluate(() => new Promise((resolve) => {
    const open = indexedDB.open('app', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('kv');
    open.onsuccess = () => {
      const get = open.result.transaction('kv').objectStore('kv').get('token');
      get.onsuccess = () => resolve(get.result ?? null);
    };
  }));
  JSON.stringify({
    who: await page.textContent('#who'),
    theme: await page.evaluate(() => localStorage.getItem('theme')),
    idb,
  });
`;

describe("named profiles on standalone browser sessions", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => closeAll(server));

  test("a login made in one session is there in the next one that opens the profile", async () => {
    const api = browserApi(server);
    const first = await api.create({ profile: { name: "shop" } });
    expect(first.status).toBe(200);
    expect(await api.node(first.body.id, LOG_IN(site.url))).toBe("Signed in as ada");
    expect((await api.stop(first.body.id)).status).toBe(200);

    const second = await api.create({ profile: { name: "shop", saveChanges: false } });
    expect(JSON.parse(await api.node(second.body.id, LOOK(site.url)))).toEqual({
      who: "Signed in as ada",
      theme: "dark",
      idb: "cached-token",
    });
    // A session without the profile starts clean.
    const plain = await api.create({});
    expect(JSON.parse(await api.node(plain.body.id, LOOK(site.url)))).toEqual({
      who: "Signed out",
      theme: null,
      idb: null,
    });
    await api.stop(second.body.id);
    await api.stop(plain.body.id);
  });

  test("one writer at a time: a second writer gets 409, readers are fine, and the lock goes with the writer", async () => {
    const api = browserApi(server);
    const writer = await api.create({ profile: { name: "busy" } });
    expect(writer.status).toBe(200);
    const second = await api.create({ profile: { name: "busy", saveChanges: true } });
    expect(second.status).toBe(409);
    expect(second.body.code).toBe("PROFILE_IN_USE");
    expect(second.body.error).toMatch(/Profile "busy" is being written by another session/);
    expect(Number(second.headers.get("retry-after"))).toBeGreaterThan(0);
    const reader = await api.create({ profile: { name: "busy", saveChanges: false } });
    expect(reader.status).toBe(200);
    // Nothing was started for the refused writer.
    expect(server.services.sessions.activeCount()).toBe(2);
    await api.stop(writer.body.id);
    const next = await api.create({ profile: { name: "busy" } });
    expect(next.status).toBe(200);
    await api.stop(next.body.id);
    await api.stop(reader.body.id);
  });

  test("a state too large to keep is not saved: the profile keeps what it had, and is freed", async () => {
    const api = browserApi(server);
    const s = await api.create({ profile: { name: "huge" } });
    await api.node(
      s.body.id,
      `await page.goto(${JSON.stringify(`${site.url}/`)});
       await page.evaluate(() => new Promise((resolve) => {
         const open = indexedDB.open('big', 1);
         open.onupgradeneeded = () => open.result.createObjectStore('kv');
         open.onsuccess = () => {
           const tx = open.result.transaction('kv', 'readwrite');
           tx.objectStore('kv').put('x'.repeat(17 * 1024 * 1024), 'blob');
           tx.oncomplete = () => resolve(true);
         };
       }));`,
    );
    expect((await api.stop(s.body.id)).status).toBe(200);
    const [huge] = (await server.services.store.profiles.list("self-hosted", Date.now())).filter(
      (p) => p.name === "huge",
    );
    expect(huge).toMatchObject({ size: 0, updatedAt: null, inUse: false });
  });

  test("a session that ends by idling saves its profile too, once", async () => {
    const api = browserApi(server);
    const s = await api.create({ activityTtl: 10, profile: { name: "idle" } });
    await api.node(s.body.id, LOG_IN(site.url));
    // The idle timeout is driven from here: a sweep as the sweeper would run it 10 s from now.
    server.services.lifetimes.sweep(Date.now() + 11_000);
    const saved = await waitFor(async () => {
      const list = await server.services.store.profiles.list("self-hosted", Date.now());
      const p = list.find((x) => x.name === "idle");
      return !!p && p.size > 0 && !p.inUse;
    }, 25_000);
    expect(saved).toBe(true);
    const late = await api.execute(s.body.id, { code: "1", language: "node" });
    expect(late.body.details).toEqual({ reason: "idle" });
    const again = await api.create({ profile: { name: "idle", saveChanges: false } });
    expect(JSON.parse(await api.node(again.body.id, LOOK(site.url))).who).toBe("Signed in as ada");
    await api.stop(again.body.id);
  }, 60_000);
});

describe("named profiles on scrapes and their interact sessions", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => closeAll(server));

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method: path.endsWith("/interact") && body === null ? "DELETE" : "POST",
      headers: { "content-type": "application/json" },
      body: body === null ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const scrape = (body: Record<string, unknown>) => post("/v2/scrape", body);

  test("log in through a profile scrape's interact session; later scrapes with the profile are signed in", async () => {
    const first = await scrape({ url: `${site.url}/account`, profile: { name: "login" } });
    expect(first.status).toBe(200);
    expect(first.body.data.markdown).toContain("Signed out");
    const id = first.body.data.metadata.scrapeId;
    const run = await post(`/v2/scrape/${id}/interact`, { code: LOG_IN(site.url) });
    expect(run.body).toMatchObject({ success: true, result: "Signed in as ada" });
    // While the session writes the profile, another writer is refused, before any charge.
    const busy = await scrape({ url: `${site.url}/account`, profile: { name: "login" } });
    expect(busy.status).toBe(409);
    expect(busy.body.code).toBe("PROFILE_IN_USE");
    // A reader is fine; it sees what was last saved (nothing yet).
    const reader = await scrape({
      url: `${site.url}/account`,
      profile: { name: "login", saveChanges: false },
    });
    expect(reader.body.data.markdown).toContain("Signed out");
    expect((await post(`/v2/scrape/${id}/interact`, null)).status).toBe(200);

    const later = await scrape({ url: `${site.url}/account`, profile: { name: "login" } });
    expect(later.status).toBe(200);
    expect(later.body.data.markdown).toContain("Signed in as ada");
    // Results that depend on a profile are never served from the cache.
    expect(later.body.data.metadata.cacheState).toBe("miss");
    const plain = await scrape({ url: `${site.url}/account`, maxAge: 0 });
    expect(plain.body.data.markdown).toContain("Signed out");
  });

  test("a scrape with a profile saves what the page stored, for the next session", async () => {
    // The fixture's home page sets a cookie from its server and one from a script, and local storage.
    expect((await scrape({ url: `${site.url}/`, profile: { name: "home" } })).status).toBe(200);
    const api = browserApi(server);
    const s = await api.create({ profile: { name: "home", saveChanges: false } });
    const seen = await api.node(
      s.body.id,
      `await page.goto(${JSON.stringify(`${site.url}/account`)});
       JSON.stringify({
         cookies: (await page.context().cookies()).map((c) => c.name).sort(),
         ls: await page.evaluate(() => localStorage.getItem('lskey')),
       })`,
    );
    expect(JSON.parse(seen)).toEqual({ cookies: ["scriptcookie", "servercookie"], ls: "lsvalue" });
    await api.stop(s.body.id);
  });

  test("profile with minAge or lockdown is a clear 400", async () => {
    const res = await scrape({ url: `${site.url}/`, profile: { name: "x" }, minAge: 1 });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/profile cannot be combined with minAge or lockdown/);
  });
});

test("another team's profile of the same name is invisible", async () => {
  const server = await startTestServer({
    USE_DB_AUTHENTICATION: "true",
    ALLOW_PRIVATE_NETWORK: "true",
  });
  try {
    const a = await makeTeam(server, "prof-a", 100);
    const b = await makeTeam(server, "prof-b", 100);
    const apiA = browserApi(server, a.key);
    const apiB = browserApi(server, b.key);
    const sa = await apiA.create({ profile: { name: "main" } });
    await apiA.node(sa.body.id, LOG_IN(site.url));
    // Team B writes its own "main" at the same time: no 409, they are different profiles.
    const sb = await apiB.create({ profile: { name: "main" } });
    expect(sb.status).toBe(200);
    expect(JSON.parse(await apiB.node(sb.body.id, LOOK(site.url))).who).toBe("Signed out");
    await apiA.stop(sa.body.id);
    await apiB.stop(sb.body.id);
    const later = await apiB.create({ profile: { name: "main", saveChanges: false } });
    expect(JSON.parse(await apiB.node(later.body.id, LOOK(site.url))).who).toBe("Signed out");
    await apiB.stop(later.body.id);
    expect((await server.services.teams.listProfiles("prof-b")).map((p) => p.name)).toEqual([
      "main",
    ]);
  } finally {
    await server.close();
  }
});
