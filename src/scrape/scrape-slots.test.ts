import { afterEach, describe, expect, it } from "vitest";
import { Deadline } from "../deadline/deadline.js";
import { AppError } from "../errors/app-error.js";
import { ScrapeSlots } from "./scrape-slots.js";

/** Deadlines made by a test, disposed after it so no timer outlives it. */
const made: Deadline[] = [];
afterEach(() => {
  for (const d of made.splice(0)) d.dispose();
});

/** A deadline far away, which the test can end by aborting `leave`. */
function deadline(timeoutMs = 60_000) {
  const leave = new AbortController();
  const d = new Deadline(timeoutMs, { signal: leave.signal });
  made.push(d);
  return { d, leave: () => leave.abort() };
}

/** Lets granted waiters run their continuations. */
const settle = () => new Promise<void>((r) => setImmediate(r));

/**
 * Scrapes asking the slots for a turn, in the order the test makes them: each records when it
 * was granted and keeps its release function.
 */
function harness(slots: ScrapeSlots) {
  const granted: string[] = [];
  const releases = new Map<string, () => void>();
  const outcomes = new Map<string, Promise<unknown>>();
  const ask = (team: string, name: string, timeoutMs?: number) => {
    const { d, leave } = deadline(timeoutMs);
    const p = slots.acquire(team, d).then((release) => {
      granted.push(name);
      releases.set(name, release);
    });
    outcomes.set(
      name,
      p.catch((err: unknown) => err),
    );
    return { leave, outcome: outcomes.get(name)! };
  };
  const release = async (name: string) => {
    const r = releases.get(name);
    if (!r) throw new Error(`${name} holds no slot`);
    releases.delete(name);
    r();
    await settle();
  };
  return { granted, ask, release, holding: () => [...releases.keys()] };
}

describe("ScrapeSlots", () => {
  it("lets a team with no competitors use every slot; the next one waits", async () => {
    const slots = new ScrapeSlots(3, 10);
    const h = harness(slots);
    for (const n of ["a1", "a2", "a3", "a4"]) h.ask("A", n);
    await settle();
    expect(h.granted).toEqual(["a1", "a2", "a3"]);
    expect({ running: slots.runningOf("A"), waiting: slots.waitingOf("A") }).toEqual({
      running: 3,
      waiting: 1,
    });
    await h.release("a2");
    expect(h.granted).toEqual(["a1", "a2", "a3", "a4"]);
  });

  it("hands a freed slot to the waiting team holding the fewest, ahead of the team that took them all", async () => {
    const slots = new ScrapeSlots(2, 10);
    const h = harness(slots);
    for (const n of ["a1", "a2", "a3", "a4", "a5"]) h.ask("A", n);
    h.ask("B", "b1");
    h.ask("B", "b2");
    await settle();
    expect(h.granted).toEqual(["a1", "a2"]);
    expect(slots.waitingOf("A")).toBe(3);
    expect(slots.waitingOf("B")).toBe(2);

    // A came first and waits longer, but holds both slots: B gets the first one freed.
    await h.release("a1");
    expect(h.granted.slice(2)).toEqual(["b1"]);
    // Now A holds none and B one: A's next.
    await h.release("a2");
    expect(h.granted.slice(3)).toEqual(["a3"]);
    await h.release("b1");
    expect(h.granted.slice(4)).toEqual(["b2"]);
    await h.release("a3");
    await h.release("b2");
    await h.release("a4");
    expect(h.granted).toEqual(["a1", "a2", "b1", "a3", "b2", "a4", "a5"]);
  });

  it("teams holding equally many take turns, whoever queued more or first", async () => {
    const slots = new ScrapeSlots(1, 100);
    const h = harness(slots);
    for (const n of ["a1", "a2", "a3", "a4"]) h.ask("A", n);
    for (const n of ["b1", "b2"]) h.ask("B", n);
    h.ask("C", "c1");
    await settle();
    while (h.holding().length > 0) await h.release(h.holding()[0]!);
    expect(h.granted).toEqual(["a1", "b1", "c1", "a2", "b2", "a3", "a4"]);
  });

  it("serves each team first come first served", async () => {
    const slots = new ScrapeSlots(1, 100);
    const h = harness(slots);
    h.ask("A", "a0");
    await settle();
    const order = ["b1", "a1", "c1", "b2", "a2", "b3", "c2", "a3"];
    for (const n of order) h.ask(n[0]!.toUpperCase(), n);
    await settle();
    while (h.holding().length > 0) await h.release(h.holding()[0]!);
    for (const team of ["a", "b", "c"]) {
      const mine = h.granted.filter((n) => n.startsWith(team));
      expect(mine).toEqual([...mine].sort());
    }
    expect(h.granted).toHaveLength(order.length + 1);
  });

  it("never lets a grant take a team past ceil(slots / k) while k teams wait, and never leaves a slot idle while anyone waits", async () => {
    // A seeded generator: the same run every time, over many shapes of contention.
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) as number;
    for (const max of [1, 2, 3, 5, 8]) {
      const slots = new ScrapeSlots(max, 1000);
      const h = harness(slots);
      const teams = ["A", "B", "C", "D"];
      let n = 0;
      // A arrives first and takes everything; the others arrive while it holds it all.
      for (let i = 0; i < max + 6; i++) h.ask("A", `A${n++}`);
      await settle();
      for (const t of teams.slice(1)) for (let i = 0; i < 6; i++) h.ask(t, `${t}${n++}`);
      await settle();
      for (let step = 0; step < 400 && h.holding().length > 0; step++) {
        const waitingTeams = teams.filter((t) => slots.waitingOf(t) > 0);
        const before = h.granted.length;
        const holding = h.holding();
        await h.release(holding[Math.floor(random() * holding.length)]!);
        const newly = h.granted.slice(before);
        expect(newly.length).toBeLessThanOrEqual(1);
        if (newly.length === 1) {
          const team = newly[0]![0]!;
          const k = waitingTeams.length;
          expect(slots.runningOf(team), `${newly[0]} with ${k} teams waiting`).toBeLessThanOrEqual(
            Math.ceil(max / k),
          );
        }
        if (slots.waiting > 0) expect(slots.running).toBe(max);
        // Now and then a team sends more.
        if (random() < 0.3) {
          const t = teams[Math.floor(random() * teams.length)]!;
          h.ask(t, `${t}${n++}`);
          await settle();
        }
      }
      while (h.holding().length > 0) await h.release(h.holding()[0]!);
      expect(h.granted).toHaveLength(n);
      expect({ running: slots.running, waiting: slots.waiting }).toEqual({
        running: 0,
        waiting: 0,
      });
    }
  });

  it("bounds each team's scrapes in flight on its own: past it 429 with the limit and Retry-After, and other teams still get in line", async () => {
    const slots = new ScrapeSlots(1, 3);
    const h = harness(slots);
    h.ask("A", "a1", 60_000);
    h.ask("A", "a2", 20_000);
    h.ask("A", "a3", 40_000);
    await settle();
    const refused = await h.ask("A", "a4").outcome;
    expect(refused).toBeInstanceOf(AppError);
    const err = refused as AppError;
    expect(err.code).toBe("TOO_MANY_SCRAPES");
    expect(err.message).toMatch(/^Too many scrapes/);
    expect(err.message).toContain("at most 3");
    expect(err.details).toMatchObject({ limit: 3, running: 1, waiting: 2 });
    // The soonest a scrape of this team's in flight can end: a2's deadline.
    expect(err.hints.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(err.hints.retryAfterSeconds).toBeLessThanOrEqual(20);

    // Another team is not refused because A's line is full: it waits, and is next, ahead of
    // A's older waiters (both hold none now; B was served less recently).
    h.ask("B", "b1");
    await settle();
    expect(slots.waitingOf("B")).toBe(1);
    await h.release("a1");
    expect(h.granted).toEqual(["a1", "b1"]);
  });

  it("a waiter that leaves frees its place in its team's limit; a slot granted as it leaves is passed on", async () => {
    const slots = new ScrapeSlots(1, 2);
    const h = harness(slots);
    h.ask("A", "a1");
    const a2 = h.ask("A", "a2");
    const b1 = h.ask("B", "b1");
    await settle();
    expect(slots.waitingOf("A")).toBe(1);
    a2.leave();
    expect(await a2.outcome).toBeInstanceOf(Error);
    expect(slots.waitingOf("A")).toBe(0);
    // Its place in the limit is free again.
    h.ask("A", "a3");
    await settle();
    expect(slots.waitingOf("A")).toBe(1);

    // b1 is granted a1's slot, and leaves in the same turn: the slot goes on to a3.
    h.release("a1").catch(() => {});
    b1.leave();
    await settle();
    expect(await b1.outcome).toBeInstanceOf(Error);
    await settle();
    expect(h.holding()).toEqual(["a3"]);
    expect(slots.runningOf("B")).toBe(0);
    await h.release("a3");
    expect({ running: slots.running, waiting: slots.waiting }).toEqual({ running: 0, waiting: 0 });
  });

  it("a release counts once, however often it is called", async () => {
    const slots = new ScrapeSlots(1, 5);
    const { d } = deadline();
    const release = await slots.acquire("A", d);
    release();
    release();
    expect(slots.running).toBe(0);
    const again = await slots.acquire("A", d);
    expect(slots.running).toBe(1);
    again();
  });
});
