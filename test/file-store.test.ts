import fs from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { afterAll, describe, expect, test } from "vitest";
import { DatabaseFileStore } from "../src/files/database-file-store.js";
import { DiskFileStore } from "../src/files/disk-file-store.js";
import type { FileStore } from "../src/files/file-store.js";
import type { FileRepository } from "../src/store/repositories.js";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { createTestDatabase } from "./helpers/postgres.js";
import {
  closeAll,
  postJson,
  startTestServer,
  tempDataDir,
  type TestServer,
} from "./helpers/server.js";
import { closeStoresAfterEach, STORE_KINDS } from "./helpers/stores.js";

closeStoresAfterEach();

/** Bytes that differ from place to place, so a piece out of order shows. */
const bytesOf = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) % 256));

async function readAll(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** What every file store does, whichever keeps the bytes. */
async function holdsTheContract(files: FileStore): Promise<void> {
  const png = bytesOf(10_000);
  const name = await files.save(png, "png");
  // 128 random bits (22 base64url characters) and the extension: the URL is the only key.
  expect(name).toMatch(/^[A-Za-z0-9_-]{22}\.png$/);
  expect(await files.save(png, "png")).not.toBe(name);

  const file = await files.read(name);
  expect(file).toMatchObject({ contentType: "image/png", size: png.length });
  expect((await readAll(file!.body)).equals(png)).toBe(true);

  const pdf = await files.read(await files.save(Buffer.from("%PDF-1.4"), "pdf"));
  expect(pdf).toMatchObject({ contentType: "application/pdf", size: 8 });
  expect((await readAll(pdf!.body)).toString()).toBe("%PDF-1.4");
  const jpeg = await files.read(await files.save(Buffer.from([0xff, 0xd8]), "jpeg"));
  expect(jpeg).toMatchObject({ contentType: "image/jpeg", size: 2 });
  pdf!.body.destroy();
  jpeg!.body.destroy();

  // Names never given out: well formed but unknown, another extension, or a path.
  expect(await files.read("AAAAAAAAAAAAAAAAAAAAAA.png")).toBeUndefined();
  expect(await files.read(name.replace(".png", ".jpeg"))).toBeUndefined();
  expect(await files.read(`../${name}`)).toBeUndefined();
  expect(await files.read(name.replace(".png", ".txt"))).toBeUndefined();

  // A recording's video segment; removed (as recordings are when their retention ends), it is
  // gone, the others stay, and names never given out are ignored.
  const segment = await files.save(bytesOf(300), "ts");
  expect(segment).toMatch(/^[A-Za-z0-9_-]{22}\.ts$/);
  const ts = await files.read(segment);
  expect(ts).toMatchObject({ contentType: "video/mp2t", size: 300 });
  ts!.body.destroy();
  await files.remove([segment, "AAAAAAAAAAAAAAAAAAAAAA.ts", `../${name}`]);
  expect(await files.read(segment)).toBeUndefined();
  const kept = await files.read(name);
  expect(kept).toBeDefined();
  kept!.body.destroy();
}

describe("the disk file store", () => {
  test("saves under DATA_DIR/files and reads back what it saved", async () => {
    const dir = tempDataDir();
    const files = new DiskFileStore(dir);
    await holdsTheContract(files);
    expect(fs.readdirSync(path.join(dir, "files"))).toHaveLength(4);
  });
});

describe.each(STORE_KINDS)("files on the $name store", (kind) => {
  test("a row gives its type and length, and any piece of its bytes", async () => {
    const { store } = await kind.fresh();
    const bytes = bytesOf(5_000);
    await store.files.put({ name: "a.png", contentType: "image/png", bytes, at: 1 });
    expect(await store.files.info("a.png")).toEqual({ contentType: "image/png", size: 5_000 });
    expect((await store.files.slice("a.png", 0, 5_000))!.equals(bytes)).toBe(true);
    expect(
      (await store.files.slice("a.png", 1_000, 300))!.equals(bytes.subarray(1_000, 1_300)),
    ).toBe(true);
    expect((await store.files.slice("a.png", 4_900, 300))!.equals(bytes.subarray(4_900))).toBe(
      true,
    );
    expect((await store.files.slice("a.png", 5_000, 10))!.length).toBe(0);
    expect(await store.files.info("b.png")).toBeUndefined();
    expect(await store.files.slice("b.png", 0, 10)).toBeUndefined();
    // A name is written once: a second file under it is refused, the first kept.
    await expect(
      store.files.put({ name: "a.png", contentType: "image/png", bytes: bytesOf(3), at: 2 }),
    ).rejects.toThrow();
    expect(await store.files.info("a.png")).toEqual({ contentType: "image/png", size: 5_000 });
  });

  test("the database file store saves in one node's store and serves from another's", async () => {
    const { store, reopen } = await kind.fresh();
    await holdsTheContract(new DatabaseFileStore(store.files));
    const name = await new DatabaseFileStore(store.files).save(bytesOf(2_500), "png");
    const other = await reopen();
    const file = await new DatabaseFileStore(other.files).read(name);
    expect((await readAll(file!.body)).equals(bytesOf(2_500))).toBe(true);
  });

  test("a read asks for one piece at a time, never more than a piece", async () => {
    const { store } = await kind.fresh();
    const asked: number[] = [];
    const counting: FileRepository = {
      put: (f) => store.files.put(f),
      info: (name) => store.files.info(name),
      remove: (names) => store.files.remove(names),
      slice: (name, offset, length) => (
        asked.push(length),
        store.files.slice(name, offset, length)
      ),
    };
    const files = new DatabaseFileStore(counting, undefined, 1_000);
    const bytes = bytesOf(4_321);
    const file = await files.read(await files.save(bytes, "jpeg"));
    expect((await readAll(file!.body)).equals(bytes)).toBe(true);
    expect(asked).toEqual([1_000, 1_000, 1_000, 1_000, 321]);
  });

  test("a file gone in the middle of a read ends it with an error, not a short file", async () => {
    const { store } = await kind.fresh();
    const goneAfterFirst: FileRepository = {
      put: (f) => store.files.put(f),
      info: (name) => store.files.info(name),
      remove: (names) => store.files.remove(names),
      slice: async (name, offset, length) =>
        offset === 0 ? store.files.slice(name, offset, length) : undefined,
    };
    const files = new DatabaseFileStore(goneAfterFirst, undefined, 1_000);
    const file = await files.read(await files.save(bytesOf(2_500), "png"));
    await expect(readAll(file!.body)).rejects.toThrow(/gone/);
  });
});

describe.each(STORE_KINDS)("GET /v2/files on the $name store", (kind) => {
  let server: TestServer | undefined;
  afterAll(() => closeAll(server));

  test("answers with the file's type, length and caching, for GET and HEAD alike", async () => {
    server = await startTestServer(await kind.env());
    const bytes = bytesOf(70_000);
    const name = await server.services.files.save(bytes, "png");
    const url = `${server.url}/v2/files/${name}`;
    for (const method of ["GET", "HEAD"]) {
      const res = await fetch(url, { method });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/png");
      expect(res.headers.get("content-length")).toBe("70000");
      expect(res.headers.get("cache-control")).toBe("private, max-age=86400");
      const body = Buffer.from(await res.arrayBuffer());
      expect(body.equals(method === "GET" ? bytes : Buffer.alloc(0))).toBe(true);
    }
    const missing = await fetch(`${server.url}/v2/files/AAAAAAAAAAAAAAAAAAAAAA.png`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      success: false,
      code: "NOT_FOUND",
      error: "File not found.",
    });
  });

  test("still serves a file the node kept on its own disk, as it did before Postgres held files", async () => {
    server ??= await startTestServer(await kind.env());
    const bytes = bytesOf(3_000);
    const name = await new DiskFileStore(server.dataDir).save(bytes, "jpeg");
    const res = await fetch(`${server.url}/v2/files/${name}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  });
});

describe("two servers on one Postgres", () => {
  let a: TestServer | undefined;
  let b: TestServer | undefined;
  let site: FixtureSite | undefined;
  afterAll(() => closeAll(a, b, site));

  test("a screenshot scraped through one is served by the other", async () => {
    const DATABASE_URL = await createTestDatabase();
    [a, b, site] = await Promise.all([
      startTestServer({ DATABASE_URL, NODE_ID: "node-a" }),
      startTestServer({ DATABASE_URL, NODE_ID: "node-b" }),
      startFixtureSite(),
    ]);
    const res = await postJson(`${a.url}/v2/scrape`, {
      url: `${site.url}/`,
      formats: ["screenshot"],
    });
    expect(res.status).toBe(200);
    const shot = res.body.data.screenshot as string;
    expect(shot.startsWith(`${a.url}/v2/files/`)).toBe(true);

    const fromB = await fetch(shot.replace(a.url, b.url));
    expect(fromB.status).toBe(200);
    expect(fromB.headers.get("content-type")).toBe("image/png");
    const bytes = Buffer.from(await fromB.arrayBuffer());
    expect(bytes.subarray(0, 8).equals(Buffer.from("89504e470d0a1a0a", "hex"))).toBe(true);
    expect(fromB.headers.get("content-length")).toBe(String(bytes.length));
    // The same bytes from the node that took it; neither keeps a copy on its own disk.
    const fromA = Buffer.from(await (await fetch(shot)).arrayBuffer());
    expect(fromA.equals(bytes)).toBe(true);
    expect(fs.existsSync(path.join(a.dataDir, "files"))).toBe(false);
    expect(fs.existsSync(path.join(b.dataDir, "files"))).toBe(false);
  });
});
