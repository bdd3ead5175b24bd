import { afterEach, expect, test, vi } from "vitest";
import { RUN_GRACE_MS, withGrace } from "./run.js";

afterEach(() => {
  vi.useRealTimers();
});

test("a run that answers in time gives its value, its deadline not ended", async () => {
  const outcome = await withGrace(async (d) => {
    expect(d.signal.aborted).toBe(false);
    return 42;
  }, 60_000);
  expect(outcome).toEqual({ value: 42, ended: false });
});

test("a run told its time is up is waited for through the grace, and its answer kept", async () => {
  vi.useFakeTimers();
  const outcome = withGrace(
    (d) =>
      new Promise<string>((resolve) =>
        d.signal.addEventListener("abort", () => setTimeout(() => resolve("stopped"), 1_000)),
      ),
    5_000,
  );
  await vi.advanceTimersByTimeAsync(5_000 + 1_000);
  await expect(outcome).resolves.toEqual({ value: "stopped", ended: true });
});

test("a run that does not answer within the grace after its deadline is abandoned", async () => {
  vi.useFakeTimers();
  let settled = false;
  const outcome = withGrace(() => new Promise<never>(() => {}), 5_000).then((o) => {
    settled = true;
    return o;
  });
  await vi.advanceTimersByTimeAsync(5_000 + RUN_GRACE_MS - 1);
  expect(settled).toBe(false);
  await vi.advanceTimersByTimeAsync(1);
  await expect(outcome).resolves.toEqual({ value: undefined, ended: true });
});

test("the caller's signal ends the deadline at once; the grace then applies as for a timeout", async () => {
  vi.useFakeTimers();
  const caller = new AbortController();
  let told = false;
  const outcome = withGrace(
    (d) => new Promise<never>(() => d.signal.addEventListener("abort", () => (told = true))),
    60_000,
    caller.signal,
  );
  caller.abort();
  expect(told).toBe(true);
  await vi.advanceTimersByTimeAsync(RUN_GRACE_MS);
  await expect(outcome).resolves.toEqual({ value: undefined, ended: true });
});

test("a run that fails rejects, whether its deadline ended or not", async () => {
  await expect(withGrace(() => Promise.reject(new Error("boom")), 60_000)).rejects.toThrow("boom");
});
