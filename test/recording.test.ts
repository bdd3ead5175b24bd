import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import type { FixtureSite } from "./helpers/fixture-site.js";
import { startTestServer, tempDataDir, waitFor, type TestServer } from "./helpers/server.js";
import { useServerAndSite } from "./helpers/server-and-site.js";
import { makeTeam, teamClient } from "./helpers/team-client.js";

/**
 * Session recordings, as Firecrawl serves them: a session created with recordSession is
 * recorded page by page from its live view's screencast, encoded by ffmpeg into HLS, and replayed
 * after it ends at /v2/browser/{id}/replay (and the /v2/interact alias).
 */
let server: TestServer;
let site: FixtureSite;

useServerAndSite((s) => ({ server, site } = s), {
  USE_DB_AUTHENTICATION: "true",
  ALLOW_PRIVATE_NETWORK: "true",
});

let ownerKey: string;
let otherKey: string;
let owner: ReturnType<typeof teamClient>;
beforeAll(async () => {
  ownerKey = (await makeTeam(server, "recorder", 1_000)).key;
  otherKey = (await makeTeam(server, "someone-else", 1_000)).key;
  owner = teamClient(server, ownerKey);
});

const get = async (path: string, as?: string) => {
  const res = await fetch(path.startsWith("http") ? path : `${server.url}${path}`, {
    headers: as ? { authorization: `Bearer ${as}` } : {},
  });
  return res;
};

/** Goes to `url` in the session and waits until its video has a frame of that page. */
async function show(id: string, url: string): Promise<void> {
  // Two animation frames after the load: the page has been painted, so its frame is on its way.
  const code =
    `await page.goto(${JSON.stringify(url)});` +
    "await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));" +
    '"ok"';
  await owner.browser.node(id, code);
  const recorded = () => server.services.recordings.onShow(id);
  expect(await waitFor(() => recorded()?.url === url)).toBe(true);
  // A frame written after the paint (a new one, or the last repeated) is of the page.
  const after = recorded()!.frames;
  expect(await waitFor(() => (recorded()?.frames ?? 0) > after)).toBe(true);
}

/** The mean colour of a video segment's last frame, decoded by ffmpeg. */
function colourOf(segment: Buffer): [number, number, number] {
  const file = path.join(tempDataDir(), "segment.ts");
  fs.writeFileSync(file, segment);
  // Every frame, each scaled to 8x8 pixels of RGB: the last 192 bytes are the last frame.
  const out = spawnSync(
    "ffmpeg",
    ["-v", "error", "-i", file, "-vf", "scale=8:8", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  expect(out.status).toBe(0);
  expect(out.stdout.length).toBeGreaterThanOrEqual(8 * 8 * 3);
  expect(out.stdout.length % (8 * 8 * 3)).toBe(0);
  const px = out.stdout.subarray(out.stdout.length - 8 * 8 * 3);
  const mean = [0, 0, 0] as [number, number, number];
  for (let i = 0; i < px.length; i++) mean[i % 3]! += px[i]! / 64;
  return mean.map(Math.round) as [number, number, number];
}

describe("a recorded session", () => {
  let id: string;
  let replay: any;
  let key: string;

  beforeAll(async () => {
    key = ownerKey;
    const made = await owner.browser.create({ recordSession: true, ttl: 120 });
    expect(made.status).toBe(200);
    id = made.body.id;
    await show(id, `${site.url}/red`);
    await show(id, `${site.url}/blue`);
    // While it records, the pages finished so far are listed: red, not yet blue.
    let live: any;
    const listed = await waitFor(async () => {
      live = await (await get(`/v2/browser/${id}/replay`, ownerKey)).json();
      return live.pages?.some((p: any) => p.pageUrl === `${site.url}/red`);
    });
    expect(listed).toBe(true);
    expect(live.pages.map((p: any) => p.pageUrl)).not.toContain(`${site.url}/blue`);
    expect((await owner.browser.stop(id)).status).toBe(200);
    const res = await get(`/v2/browser/${id}/replay`, key);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    replay = await res.json();
  }, 120_000);

  test("lists each page it showed with its address and when it was on show", () => {
    expect(replay.success).toBe(true);
    expect(replay.pageCount).toBe(replay.pages.length);
    const red = replay.pages.find((p: any) => p.pageUrl === `${site.url}/red`);
    const blue = replay.pages.find((p: any) => p.pageUrl === `${site.url}/blue`);
    expect(red).toBeDefined();
    expect(blue).toBeDefined();
    expect(Number(blue.pageId)).toBeGreaterThan(Number(red.pageId));
    for (const [i, p] of replay.pages.entries()) {
      expect(p.pageId).toBe(String(i));
      expect(p.url).toBe(`/v2/browser/${id}/replay/${p.pageId}`);
      expect(p.startTimeMs).toBeGreaterThanOrEqual(0);
      expect(p.endTimeMs).toBeGreaterThan(p.startTimeMs);
    }
    expect(blue.startTimeMs).toBeGreaterThanOrEqual(red.endTimeMs);
  });

  test("the ended session's history says it was recorded", async () => {
    const res = await get(`/v2/sessions`, key);
    const mine = (await res.json()).sessions.find((s: { id: string }) => s.id === id);
    expect(mine).toMatchObject({ recorded: true, status: "destroyed" });
  });

  test("each page is an HLS playlist whose video shows that page", async () => {
    for (const [colour, want] of [
      ["red", [255, 0, 0]],
      ["blue", [0, 0, 255]],
    ] as const) {
      const page = replay.pages.find((p: any) => p.pageUrl === `${site.url}/${colour}`);
      const res = await get(page.url, key);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/vnd\.apple\.mpegurl/);
      expect(res.headers.get("cache-control")).toBe("no-store");
      const playlist = await res.text();
      const lines = playlist.trim().split("\n");
      expect(lines[0]).toBe("#EXTM3U");
      expect(lines.at(-1)).toBe("#EXT-X-ENDLIST");
      expect(playlist).toContain("#EXT-X-PLAYLIST-TYPE:VOD");
      const segments = lines.filter((l) => !l.startsWith("#"));
      expect(segments.length).toBeGreaterThan(0);
      const durations = lines.filter((l) => l.startsWith("#EXTINF:"));
      expect(durations.length).toBe(segments.length);
      for (const url of segments) expect(url).toMatch(/^http:\/\/.+\/v2\/files\/[\w-]{22,}\.ts$/);

      // Segments need no key: their URL is unguessable.
      const segment = await get(segments.at(-1)!);
      expect(segment.status).toBe(200);
      expect(segment.headers.get("content-type")).toBe("video/mp2t");
      const [r, g, b] = colourOf(Buffer.from(await segment.arrayBuffer()));
      for (const [got, expected] of [
        [r, want[0]],
        [g, want[1]],
        [b, want[2]],
      ]) {
        expect(Math.abs(got! - expected!)).toBeLessThan(40);
      }
    }
  });

  test("ffmpeg plays a page from its playlist URL, as a player would", async () => {
    const page = replay.pages.find((p: any) => p.pageUrl === `${site.url}/blue`);
    // Asynchronously: the server answering it runs in this process.
    const { stdout } = await promisify(execFile)("ffprobe", [
      ...["-v", "error", "-headers", `Authorization: Bearer ${key}\r\n`],
      ...["-show_entries", "stream=codec_name:format=duration", "-of", "json"],
      `${server.url}${page.url}`,
    ]);
    const probed = JSON.parse(stdout);
    expect(probed.streams.map((s: any) => s.codec_name)).toEqual(["h264"]);
    expect(Number(probed.format.duration)).toBeGreaterThan(0);
  });

  test("the /v2/interact alias serves the same replay, its URLs under its own path", async () => {
    const res = await get(`/v2/interact/${id}/replay`, key);
    expect(res.status).toBe(200);
    const body: any = await res.json();
    expect(body.pageCount).toBe(replay.pageCount);
    expect(body.pages[0].url).toBe(`/v2/interact/${id}/replay/0`);
    expect((await get(body.pages[0].url, key)).status).toBe(200);
  });

  test("another team is refused it", async () => {
    for (const path of [`/v2/browser/${id}/replay`, `/v2/browser/${id}/replay/0`]) {
      const res = await get(path, otherKey);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ success: false, code: "FORBIDDEN" });
    }
  });

  test("a page it does not have is 404, a pageId that is not 1-3 digits 400", async () => {
    const missing = await get(`/v2/browser/${id}/replay/999`, key);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: "Replay not found." });
    for (const bad of ["abc", "1234", "-1"]) {
      const res = await get(`/v2/browser/${id}/replay/${bad}`, key);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ success: false, error: "Invalid pageId." });
    }
  });

  test("once its retention has passed, it is gone with its video", async () => {
    const page = replay.pages[0];
    const playlist = await (await get(page.url, key)).text();
    const segment = playlist.split("\n").find((l) => l.startsWith("http"))!;
    expect((await get(segment)).status).toBe(200);

    // Nothing is due yet: the sweep keeps it.
    expect(await server.services.recordings.sweep(Date.now())).toBe(0);
    expect((await get(`/v2/browser/${id}/replay`, key)).status).toBe(200);

    const afterRetention = Date.now() + 7 * 86_400_000 + 60_000;
    expect(await server.services.recordings.sweep(afterRetention)).toBeGreaterThanOrEqual(1);
    const gone = await get(`/v2/browser/${id}/replay`, key);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ error: "Replay not found." });
    expect((await get(segment)).status).toBe(404);
  });
});

describe("RECORD_INTERACT_SESSIONS", () => {
  test("records sessions bound to scrapes, replayed by the session's id", async () => {
    const recording = await startTestServer({
      RECORD_INTERACT_SESSIONS: "true",
      ALLOW_PRIVATE_NETWORK: "true",
    });
    try {
      const client = teamClient(recording);
      const scrapeId = await client.scrapeId(`${site.url}/red`);
      expect((await client.interact(scrapeId, { code: "1", language: "node" })).status).toBe(200);
      const id = recording.services.sessions.get(scrapeId)!.id;
      expect(
        await waitFor(() => (recording.services.recordings.onShow(id)?.frames ?? 0) >= 2),
      ).toBe(true);
      expect((await client.stop(scrapeId)).status).toBe(200);
      const res = await fetch(`${recording.url}/v2/browser/${id}/replay`);
      expect(res.status).toBe(200);
      const body: any = await res.json();
      expect(body.pages.map((p: any) => p.pageUrl)).toContain(`${site.url}/red`);
    } finally {
      await recording.close();
    }
  }, 60_000);
});

describe("a session that was not recorded", () => {
  test("has no replay: 404; another team's 403; a session that never was 404", async () => {
    const made = await owner.browser.create({ ttl: 60 });
    expect(made.status).toBe(200);
    const id = made.body.id;
    expect(server.services.recordings.onShow(id)).toBeUndefined();
    expect((await owner.browser.stop(id)).status).toBe(200);
    for (const path of [`/v2/browser/${id}/replay`, `/v2/interact/${id}/replay/0`]) {
      const res = await get(path, ownerKey);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ success: false, error: "Replay not found." });
      expect((await get(path, otherKey)).status).toBe(403);
    }
    const never = await get(`/v2/browser/00000000-0000-4000-8000-000000000000/replay`, ownerKey);
    expect(never.status).toBe(404);
  });

  test("recordSession with zeroDataRetention is refused", async () => {
    const res = await owner.browser.create({ recordSession: true, zeroDataRetention: true });
    expect(res.status).toBe(400);
  });
});
