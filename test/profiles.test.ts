import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { FixtureSite } from "./helpers/fixture-site.js";
import { startFixtureSite } from "./helpers/fixture-site.js";
import { closeAll, startTestServer, type TestServer, waitFor } from "./helpers/server.js";
import { makeTeam } from "./helpers/team-client.js";

let site: FixtureSite;
beforeAll(async () => {
  site = await startFixtureSite();
});
afterAll(() => closeAll(site));

/** /v2/browser calls as one team (a key), or with none while authentication is off. */
function browserApi(server: TestServer, key?: string) {
  const call = async (method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = {};
    if (key) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as any };
  };
  return {
    create: (body: Record<string, unknown>) => call("POST", "/v2/browser", body),
    node: async (id: string, code: string) => {
      const res = await call("POST", `/v2/browser/${id}/execute`, { code, language: "node" });
      if (res.status !== 200 || !res.body.success) {
        throw new Error(`execute: ${res.status} ${JSON.stringify(res.body)}`);
      }
      return res.body.result as string;
    },
    stop: (id: string) => call("DELETE", `/v2/browser/${id}`),
  };
}

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

  test("a session that ends by idling saves its profile too, once", async () => {
    const api = browserApi(server);
    const s = await api.create({ activityTtl: 10, profile: { name: "idle" } });
    await api.node(s.body.id, LOG_IN(site.url));
    const saved = await waitFor(async () => {
      const list = await server.services.store.profiles.list("self-hosted", Date.now());
      const p = list.find((x) => x.name === "idle");
      return !!p && p.size > 0 && !p.inUse;
    }, 25_000);
    expect(saved).toBe(true);
    expect((await api.stop(s.body.id)).body.details).toEqual({ reason: "idle" });
    const again = await api.create({ profile: { name: "idle", saveChanges: false } });
    expect(JSON.parse(await api.node(again.body.id, LOOK(site.url))).who).toBe("Signed in as ada");
    await api.stop(again.body.id);
  }, 60_000);
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
