import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { AppError } from "../errors/app-error.js";
import {
  CallAbandonedError,
  CallQueue,
  TeamCallQueues,
  type Expired,
  type Turn,
} from "./call-queue.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** The turn of a call that did not have to wait. */
async function first(q: CallQueue, timeoutMs = 30_000): Promise<Turn> {
  const t = await q.enter(timeoutMs);
  if (t.expired) throw new Error("expired");
  return t;
}

/** Whether a promise has settled, after pending callbacks ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await vi.advanceTimersByTimeAsync(0);
  return done;
}

function refusal(run: () => unknown): AppError {
  try {
    run();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error("not refused");
}

describe("a session's call queue", () => {
  test("a call's timeout counts from its arrival: after 20 s of waiting, 10 s of 30 are left", async () => {
    const q = new CallQueue("t", 8, new TeamCallQueues(16));
    const running = await first(q);
    const waiting = q.enter(30_000);
    await vi.advanceTimersByTimeAsync(20_000);
    running.done();
    expect(await waiting).toMatchObject({ expired: false, remainingMs: 10_000, waitedMs: 20_000 });
  });

  test("a call whose time runs out while it waits is answered then, and the next one runs in its place", async () => {
    const q = new CallQueue("t", 8, new TeamCallQueues(16));
    const running = await first(q, 300_000);
    const short = q.enter(1_000);
    const next = q.enter(60_000);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await short).toEqual<Expired>({ expired: true, waitedMs: 1_000 });
    expect(await settled(next)).toBe(false);
    expect(q.waitingCount).toBe(1);
    running.done();
    expect(await next).toMatchObject({ expired: false, remainingMs: 59_000 });
  });

  test("calls run one at a time, in order of arrival", async () => {
    const q = new CallQueue("t", 8, new TeamCallQueues(16));
    const ran: number[] = [];
    const calls = [0, 1, 2, 3].map(async (i) => {
      const t = await q.enter(30_000);
      if (t.expired) return;
      ran.push(i);
      await vi.advanceTimersByTimeAsync(10);
      t.done();
    });
    await Promise.all(calls);
    expect(ran).toEqual([0, 1, 2, 3]);
  });

  test("a waiting call whose client leaves is dropped at once and frees its place", async () => {
    const q = new CallQueue("t", 1, new TeamCallQueues(16));
    const running = await first(q);
    const client = new AbortController();
    const gone = q.enter(30_000, client.signal);
    expect(() => q.enter(30_000)).toThrow(AppError);
    client.abort();
    await expect(gone).rejects.toBeInstanceOf(CallAbandonedError);
    expect(q.waitingCount).toBe(0);
    const later = q.enter(30_000);
    running.done();
    expect(await later).toMatchObject({ expired: false });
    // A client gone before its call arrived does not even take a place.
    await expect(q.enter(30_000, AbortSignal.abort())).rejects.toBeInstanceOf(CallAbandonedError);
  });

  test("past the session's bound a call is refused with the limit and when a place frees up", async () => {
    const q = new CallQueue("t", 2, new TeamCallQueues(16));
    await first(q, 30_000);
    void q.enter(60_000);
    void q.enter(60_000);
    await vi.advanceTimersByTimeAsync(10_000);
    const err = refusal(() => q.enter(60_000));
    expect(err.code).toBe("TOO_MANY_CALLS");
    expect(err.message).toContain("2 calls waiting");
    // The running call ends by its deadline (20 s on) plus the worker's grace (4 s) at the latest.
    expect(err.hints.retryAfterSeconds).toBe(24);
    expect(err.details).toMatchObject({ limit: 2, scope: "session", retryAfterSeconds: 24 });
  });

  test("a team's waiting calls are counted across its sessions; another team's are not", async () => {
    const team = new TeamCallQueues(3);
    const [a1, a2, b1] = [
      new CallQueue("a", 2, team),
      new CallQueue("a", 2, team),
      new CallQueue("b", 2, team),
    ];
    const runs = await Promise.all([first(a1), first(a2), first(b1)]);
    const waiting = [a1.enter(30_000), a1.enter(30_000), a2.enter(30_000)];
    expect(team.waiting("a")).toBe(3);
    const err = refusal(() => a2.enter(30_000));
    expect(err.details).toMatchObject({ limit: 3, scope: "team" });
    expect(err.message).toContain("3 calls waiting across its sessions");
    void b1.enter(30_000);
    void b1.enter(30_000);
    expect(team.waiting("b")).toBe(2);
    // Once a2's call runs, the team has a place again.
    runs[1]!.done();
    await waiting[2];
    expect(team.waiting("a")).toBe(2);
    expect(() => a2.enter(30_000)).not.toThrow();
  });
});
