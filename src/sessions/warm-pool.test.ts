import { afterEach, expect, test, vi } from "vitest";
import type { SessionResources } from "./resources.js";
import { WarmPool, type WarmPoolOptions } from "./warm-pool.js";

/** Launches that finish when the test says so, in any order. */
function launches() {
  const pending: { resolve: (r: SessionResources) => void; reject: (e: unknown) => void }[] = [];
  let made = 0;
  let released = 0;
  const entry = (): SessionResources =>
    ({
      id: ++made,
      browser: { isConnected: () => true },
      sandbox: { alive: true },
      release: async () => {
        released++;
      },
    }) as unknown as SessionResources;
  return {
    create: () =>
      new Promise<SessionResources>((resolve, reject) => pending.push({ resolve, reject })),
    running: () => pending.length,
    /** Finishes the oldest launch under way. */
    finish: async () => {
      pending.shift()!.resolve(entry());
      await new Promise((r) => setImmediate(r));
    },
    fail: async (err: Error) => {
      pending.shift()!.reject(err);
      await new Promise((r) => setImmediate(r));
    },
    released: () => released,
  };
}

let pools: WarmPool[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(pools.map((p) => p.close().catch(() => {})));
  pools = [];
});

function pool(l: ReturnType<typeof launches>, opts: Partial<WarmPoolOptions> = {}) {
  const p = new WarmPool({
    ceiling: 0,
    maxLaunches: 2,
    create: l.create,
    onError: () => {},
    ...opts,
  });
  pools.push(p);
  return p;
}

test("a burst: at most maxLaunches at once, and callers get entries in arrival order", async () => {
  const l = launches();
  const p = pool(l);
  const order: number[] = [];
  const takes = Array.from({ length: 6 }, (_, i) => p.take().then(() => order.push(i)));
  expect(l.running()).toBe(2);
  await l.finish();
  expect(order).toEqual([0]); // the first caller does not wait for the whole burst
  expect(l.running()).toBe(2);
  for (let i = 0; i < 5; i++) await l.finish();
  await Promise.all(takes);
  expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  expect(l.running()).toBe(0); // ceiling 0: nothing started ahead
  expect(p.takes).toEqual({ hit: 0, miss: 6 });
});

test("idle, it keeps one ready; under steady takes it keeps more, up to the ceiling", async () => {
  let now = 0;
  const l = launches();
  const p = pool(l, { ceiling: 3, now: () => now });
  p.fill();
  expect(p.target).toBe(1);
  expect(l.running()).toBe(1);
  await l.finish();
  expect(p.readyCount).toBe(1);
  expect(l.running()).toBe(0);
  // One take a second with launches of 800 ms: two more are needed in flight.
  for (let i = 0; i < 60; i++) {
    now += 200;
    const got = p.take();
    now += 800;
    while (l.running()) await l.finish();
    await got;
  }
  expect(p.target).toBe(3);
  expect(p.readyCount).toBe(3);
  expect(p.takes.hit).toBeGreaterThan(25);
  // Ten quiet minutes later it shrinks back to one.
  now += 10 * 60_000;
  expect(p.target).toBe(1);
});

test("ready entries beyond the target are let go as the pool goes idle", async () => {
  vi.useFakeTimers({ toFake: ["setInterval", "setTimeout", "Date"] });
  const l = launches();
  const p = pool(l, { ceiling: 3, now: () => Date.now() });
  for (let i = 0; i < 60; i++) {
    vi.setSystemTime(Date.now() + 200);
    const got = p.take();
    vi.setSystemTime(Date.now() + 800);
    while (l.running()) await l.finish();
    await got;
  }
  expect(p.readyCount).toBe(3);
  vi.setSystemTime(Date.now() + 6 * 60_000);
  vi.advanceTimersByTime(30_000);
  expect(p.readyCount).toBe(1);
  expect(l.released()).toBe(2);
});

test("no room (memory, session cap): nothing starts ahead, but callers still get theirs", async () => {
  const l = launches();
  const p = pool(l, { ceiling: 3, roomForOne: () => false });
  p.fill();
  expect(l.running()).toBe(0);
  const got = p.take();
  expect(l.running()).toBe(1);
  await l.finish();
  await expect(got).resolves.toBeTruthy();
});

test("a failed launch fails the caller that waited for it; one ahead of demand is retried later", async () => {
  vi.useFakeTimers({ toFake: ["setTimeout", "setInterval", "Date"] });
  const l = launches();
  const errors: unknown[] = [];
  const p = pool(l, { ceiling: 1, onError: (e) => errors.push(e), maxLaunches: 1 });
  const failed = expect(p.take()).rejects.toThrow("no browser");
  await l.fail(new Error("no browser"));
  await failed;
  expect(errors).toEqual([]);
  // The refill ahead of demand fails: reported, and not retried in a tight loop.
  await l.fail(new Error("still none"));
  expect(errors).toHaveLength(1);
  expect(l.running()).toBe(0);
  vi.advanceTimersByTime(5_000);
  expect(l.running()).toBe(1);
  await l.finish();
  expect(p.readyCount).toBe(1);
});
