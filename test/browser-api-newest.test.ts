import { beforeAll, describe, expect, test } from "vitest";
import type { FixtureSite } from "./helpers/fixture-site.js";
import { type TestServer } from "./helpers/server.js";
import { useServerAndSite } from "./helpers/server-and-site.js";
import { makeTeam, teamClient } from "./helpers/team-client.js";

/**
 * What Firecrawl's newest clients send to its browser API and read back: the /v2/interact alias,
 * the create fields (blockAds, location, recordSession, zeroDataRetention, labels), a session's
 * state, and deleting a profile.
 */
let server: TestServer;
let site: FixtureSite;

useServerAndSite((s) => ({ server, site } = s), {
  USE_DB_AUTHENTICATION: "true",
  ALLOW_PRIVATE_NETWORK: "true",
});

let key: string;
beforeAll(async () => {
  key = (await makeTeam(server, "newest", 1_000)).key;
});

const call = (method: string, path: string, body?: unknown, as = key) =>
  teamClient(server, as).call(method, path, body);
const run = (base: string, id: string, code: string) =>
  call("POST", `${base}/${id}/execute`, { code, language: "node" });

describe("the /v2/interact alias", () => {
  test("serves every browser route: create, execute, list, state, delete", async () => {
    const made = await call("POST", "/v2/interact", { ttl: 120, origin: "js-sdk@9" });
    expect(made.status).toBe(200);
    const id: string = made.body.id;
    expect((await run("/v2/interact", id, "6 * 7")).body).toMatchObject({ result: "42" });
    // The same session under either name.
    expect((await run("/v2/browser", id, "'same'")).body).toMatchObject({ result: "same" });
    const listed = await call("GET", "/v2/interact?status=active");
    expect(listed.body.sessions.map((s: { id: string }) => s.id)).toContain(id);

    const state = await call("GET", `/v2/interact/${id}`);
    expect(state.status).toBe(200);
    expect(state.body).toEqual({
      success: true,
      id,
      status: "running",
      cdpUrl: made.body.cdpUrl,
      liveViewUrl: made.body.liveViewUrl,
      interactiveLiveViewUrl: made.body.interactiveLiveViewUrl,
      expiresAt: made.body.expiresAt,
    });

    const stopped = await call("DELETE", `/v2/interact/${id}`);
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ success: true, status: "stopped", creditsBilled: 2 });
    expect(Number.isInteger(stopped.body.sessionDurationMs)).toBe(true);

    // Its state after the end: stopped, how long it lived and what it was billed.
    for (const base of ["/v2/browser", "/v2/interact"]) {
      const ended = await call("GET", `${base}/${id}`);
      expect(ended.status).toBe(200);
      expect(ended.body).toMatchObject({
        success: true,
        id,
        status: "stopped",
        cdpUrl: "",
        liveViewUrl: "",
        creditsBilled: 2,
      });
      expect(ended.body.sessionDurationMs).toBeGreaterThanOrEqual(0);
    }
    expect((await run("/v2/interact", id, "1")).status).toBe(410);
  });

  test("a session's state is its team's only; an unknown or malformed id is 404 or 400", async () => {
    const made = await call("POST", "/v2/browser", {});
    const other = (await makeTeam(server, "newest-other", 100)).key;
    expect((await call("GET", `/v2/browser/${made.body.id}`, undefined, other)).status).toBe(403);
    const unknown = await call("GET", "/v2/browser/0b0e4a8e-3f4e-4bb0-9a43-6a1f0d0c0c0c");
    expect(unknown.status).toBe(404);
    expect((await call("GET", "/v2/interact/not-a-uuid")).status).toBe(400);
    expect((await call("DELETE", `/v2/browser/${made.body.id}`)).status).toBe(200);
  });
});

describe("creating a session with Firecrawl's newest fields", () => {
  test("blockAds (on by default) keeps ad scripts from loading; false lets them run", async () => {
    const page = `${site.url}/ads`;
    const adText = "await page.textContent('#ad-slot')";
    const blocked = await call("POST", "/v2/browser", {});
    await run("/v2/browser", blocked.body.id, `await page.goto(${JSON.stringify(page)})`);
    expect((await run("/v2/browser", blocked.body.id, adText)).body.result).toBe("no ad");

    const open = await call("POST", "/v2/browser", { blockAds: false });
    await run("/v2/browser", open.body.id, `await page.goto(${JSON.stringify(page)})`);
    expect(
      (
        await run(
          "/v2/browser",
          open.body.id,
          `await page.waitForFunction(() => document.getElementById('ad-slot').textContent !== 'no ad'); ${adText}`,
        )
      ).body.result,
    ).toBe("AD LOADED");
    for (const s of [blocked, open]) await call("DELETE", `/v2/browser/${s.body.id}`);
  });

  test("location sets the browser's time zone, language and Accept-Language", async () => {
    const made = await call("POST", "/v2/interact", { location: { country: "de" } });
    expect(made.status).toBe(200);
    const id: string = made.body.id;
    const env = await run(
      "/v2/browser",
      id,
      `await page.goto(${JSON.stringify(`${site.url}/headers`)}); ` +
        "[await page.evaluate(() => navigator.language), await page.textContent('#headers')]",
    );
    expect(env.body.success).toBe(true);
    // node's `result` shows the array as JSON.
    const [lang, headers] = JSON.parse(env.body.result) as string[];
    expect(lang).toBe("de-DE");
    expect(headers).toContain('"accept-language": "de-DE');
    const zone = await run(
      "/v2/browser",
      id,
      "await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone)",
    );
    expect(zone.body.result).toBe("Europe/Berlin");
    await call("DELETE", `/v2/browser/${id}`);
  });

  test("bad values are 400 in Firecrawl's words; labels, recordSession and unknown fields are accepted", async () => {
    const country = await call("POST", "/v2/browser", { location: { country: "xx" } });
    expect(country.status).toBe(400);
    expect(JSON.stringify(country.body)).toContain(
      "Invalid country code. Use a valid ISO 3166-1 alpha-2 country code.",
    );
    expect(
      (await call("POST", "/v2/browser", { location: { country: "us-generic" } })).status,
    ).toBe(400);
    expect(
      (await call("POST", "/v2/browser", { location: { country: "de", languages: ["de"] } }))
        .status,
    ).toBe(400);
    for (const clash of [{ recordSession: true }, { profile: { name: "p" } }]) {
      const res = await call("POST", "/v2/browser", { zeroDataRetention: true, ...clash });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain(
        "Recordings and saved profiles are not supported with Zero Data Retention.",
      );
    }
    const accepted = await call("POST", "/v2/browser", {
      zeroDataRetention: true,
      recordSession: false,
      integration: "my-app",
      origin: "python-sdk@4.55.0",
      someFieldOfANewerClient: { x: 1 },
    });
    expect(accepted.status).toBe(200);
    await call("DELETE", `/v2/browser/${accepted.body.id}`);
    const recorded = await call("POST", "/v2/browser", { recordSession: true });
    expect(recorded.status).toBe(200);
    await call("DELETE", `/v2/browser/${recorded.body.id}`);
  });
});

describe("deleting a profile", () => {
  test("200 once its writer has ended, 409 while a session saves to it, 404 when unknown, 400 for a bad name", async () => {
    const made = await call("POST", "/v2/browser", { profile: { name: "shop login" } });
    expect(made.status).toBe(200);
    const busy = await call("DELETE", "/v2/browser/profiles/shop%20login");
    expect(busy.status).toBe(409);
    expect(busy.body.error).toBe(
      "A session is currently saving to this profile. Stop that session, then delete the profile.",
    );
    await call("DELETE", `/v2/browser/${made.body.id}`);
    const gone = await call("DELETE", "/v2/interact/profiles/shop%20login");
    expect(gone.status).toBe(200);
    expect(gone.body).toEqual({ success: true });
    expect((await call("DELETE", "/v2/browser/profiles/shop%20login")).status).toBe(404);
    // Another team never reaches this team's profiles.
    await call(
      "DELETE",
      `/v2/browser/${(await call("POST", "/v2/browser", { profile: { name: "mine" } })).body.id}`,
    );
    const other = (await makeTeam(server, "newest-profiles", 100)).key;
    expect((await call("DELETE", "/v2/browser/profiles/mine", undefined, other)).status).toBe(404);
    expect((await call("DELETE", "/v2/browser/profiles/mine")).status).toBe(200);
    expect((await call("DELETE", `/v2/browser/profiles/${"x".repeat(129)}`)).status).toBe(400);
    expect((await call("DELETE", "/v2/browser/profiles/bad%0Aname")).status).toBe(400);
  });
});

describe("an interact session's lifetimes", () => {
  test("ttl and activityTtl on the call that creates it set them; later calls leave them; bounds as /v2/browser's", async () => {
    const scraped = await call("POST", "/v2/scrape", { url: `${site.url}/` });
    const scrapeId: string = scraped.body.data.metadata.scrapeId;
    const at = `/v2/scrape/${scrapeId}/interact`;
    expect((await call("POST", at, { code: "1", ttl: 5 })).status).toBe(400);
    expect((await call("POST", at, { code: "1", activityTtl: 4000 })).status).toBe(400);
    expect(server.services.sessions.get(scrapeId)).toBeUndefined();

    const first = await call("POST", at, { code: "1", ttl: 1800, activityTtl: 900 });
    expect(first.status).toBe(200);
    const shape = () => server.services.sessions.get(scrapeId)!.shape;
    expect(shape()).toMatchObject({ ttlMs: 1_800_000, idleTtlMs: 900_000 });
    const later = await call("POST", at, { code: "2", ttl: 60, activityTtl: 10 });
    expect(later.body).toMatchObject({ success: true, result: "2" });
    expect(shape()).toMatchObject({ ttlMs: 1_800_000, idleTtlMs: 900_000 });
    // The idle timeout it was given is the one that ends it.
    const session = server.services.sessions.get(scrapeId)!;
    server.services.lifetimes.sweep(session.lastUsedAt + 899_000);
    expect(server.services.sessions.get(scrapeId)).toBeDefined();
    server.services.lifetimes.sweep(session.lastUsedAt + 900_000);
    await expect.poll(async () => (await call("POST", at, { code: "1" })).status).toBe(410);
    expect((await call("POST", at, { code: "1" })).body.details).toEqual({ reason: "idle" });
  });
});
