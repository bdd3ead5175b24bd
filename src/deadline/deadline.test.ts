import { expect, test } from "vitest";
import { Deadline, DeadlineExceededError, withDeadline } from "./deadline.js";

const never = () => new Promise<never>(() => {});

test("a deadline that runs out aborts its signal with an error naming the stage", async () => {
  const d = new Deadline(20, { stage: "loading" });
  d.stage = "reading";
  await expect(d.race(never())).rejects.toThrow("Timed out after 20 ms while reading.");
  expect(d.timedOut).toBe(true);
  expect(d.signal.aborted).toBe(true);
  expect(d.signal.reason).toBeInstanceOf(DeadlineExceededError);
  expect(() => d.check()).toThrow(DeadlineExceededError);
  d.dispose();
});

test("the caller's signal cancels it, with the caller's error, not a timeout", async () => {
  const caller = new AbortController();
  const d = new Deadline(60_000, {
    signal: caller.signal,
    cancelError: () => new Error("client left"),
  });
  const slept = d.sleep(60_000);
  caller.abort();
  await expect(slept).rejects.toThrow("client left");
  expect(d.timedOut).toBe(false);
  d.dispose();
});

test("what an uncancellable operation yields after the deadline is cleaned up", async () => {
  const d = new Deadline(10);
  let deliver!: (v: string) => void;
  const cleaned: string[] = [];
  const raced = d.raceUncancellable(
    () => new Promise<string>((r) => (deliver = r)),
    (v) => cleaned.push(v),
  );
  await expect(raced).rejects.toThrow(DeadlineExceededError);
  deliver("socket");
  await new Promise((r) => setTimeout(r, 0));
  expect(cleaned).toEqual(["socket"]);
  d.dispose();
});

test("withDeadline gives the value, or undefined when the time passes first", async () => {
  expect(await withDeadline(Promise.resolve(42), 1_000)).toBe(42);
  expect(await withDeadline(never(), 10)).toBeUndefined();
  await expect(withDeadline(Promise.reject(new Error("boom")), 1_000)).rejects.toThrow("boom");
});
