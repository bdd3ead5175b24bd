import { describe, expect, test } from "vitest";
import { WriteRetry } from "./write-retry.js";

const quiet = { warn: () => {}, info: () => {} };

/** A store that refuses writes while `down`, and records those it takes. */
function flakyStore() {
  const taken: string[] = [];
  let tries = 0;
  const store = {
    down: true,
    taken,
    get tries() {
      return tries;
    },
    write: (what: string) => async () => {
      tries++;
      if (store.down)
        throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
      taken.push(what);
    },
  };
  return store;
}

describe("writes that must reach the store", () => {
  test("writes the store refused are taken once it comes back, each exactly once", async () => {
    const store = flakyStore();
    const retry = new WriteRetry({ log: quiet, minDelayMs: 5, maxDelayMs: 20 });
    expect(await retry.run("a", store.write("a"))).toBe(false);
    expect(await retry.run("b", store.write("b"))).toBe(false);
    expect(retry.size).toBe(2);
    await expect.poll(() => store.tries).toBeGreaterThan(5);
    store.down = false;
    await expect.poll(() => retry.size).toBe(0);
    expect([...store.taken].sort()).toEqual(["a", "b"]);
    await retry.close();
    expect(store.taken).toHaveLength(2);
  });

  test("while the store is down, one write is tried per pause, not every one", async () => {
    const store = flakyStore();
    const retry = new WriteRetry({ log: quiet, minDelayMs: 5, maxDelayMs: 20 });
    for (let i = 0; i < 50; i++) await retry.run(`w${i}`, store.write(`w${i}`));
    const before = store.tries;
    await retry.flush();
    expect(store.tries).toBe(before + 1);
    await retry.close();
  });

  test("a write that can never succeed does not hold up the others", async () => {
    const store = flakyStore();
    store.down = false;
    const retry = new WriteRetry({ log: quiet, minDelayMs: 5, maxDelayMs: 20 });
    await retry.run("broken", async () => {
      throw new Error("a bug");
    });
    store.down = true;
    await retry.run("good", store.write("good"));
    store.down = false;
    await expect.poll(() => store.taken).toEqual(["good"]);
    expect(retry.has("broken")).toBe(true);
    await retry.close();
    expect(retry.size).toBe(0);
  });

  test("what waits is bounded; a newer write under the same key replaces the older", async () => {
    const store = flakyStore();
    const retry = new WriteRetry({ log: quiet, minDelayMs: 5, maxDelayMs: 20, maxPending: 3 });
    for (const k of ["a", "b", "c", "d"]) await retry.run(k, store.write(k));
    expect(retry.size).toBe(3);
    expect(retry.has("a")).toBe(false);
    await retry.run("d", store.write("d2"));
    store.down = false;
    await expect.poll(() => retry.size).toBe(0);
    expect(store.taken.sort()).toEqual(["b", "c", "d2"]);
    await retry.close();
  });
});
