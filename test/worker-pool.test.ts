import { afterEach, expect, test } from "vitest";
import {
  TaskError,
  WorkerPool,
  type WorkerPoolOptions,
} from "../src/scrape/transforms/worker-pool.js";
import type { PoolTestTask } from "./helpers/pool-worker.js";

// The pool that keeps page transforms off the event loop, with real threads running TypeScript
// under vitest (the server's own start, under tsx, is covered by scrape-heavy-page.test.ts).

const MODULE = new URL("./helpers/pool-worker.ts", import.meta.url);
const pools: WorkerPool<PoolTestTask, string>[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

function pool(opts: Partial<WorkerPoolOptions> = {}) {
  const p = new WorkerPool<PoolTestTask, string>({
    module: MODULE,
    size: 1,
    maxQueue: 4,
    timeoutMs: 60_000,
    memoryMb: 64,
    ...opts,
  });
  pools.push(p);
  return p;
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => "resolved",
    (err: unknown) => (err instanceof TaskError ? err.reason : String(err)),
  );

test("tasks run in a worker thread that loads TypeScript, one after another", async () => {
  const p = pool();
  const out = await Promise.all(["a", "b", "c"].map((v) => p.run({ op: "echo", value: v })));
  expect(out).toEqual(
    ["a", "b", "c"].map((v) => expect.stringMatching(`^echo ${v} from thread [1-9]`)),
  );
  expect(new Set(out.map((o) => o.split(" ").pop())).size).toBe(1); // one worker, reused
});

test("a task that throws fails alone: its message comes back and the worker goes on", async () => {
  const p = pool();
  await expect(p.run({ op: "throw", message: "too deep" })).rejects.toMatchObject({
    reason: "failed",
    message: "RangeError: too deep",
  });
  expect(await p.run({ op: "echo", value: "after" })).toContain("echo after");
});

test("a task past the time limit has its worker terminated; the next task gets a new one", async () => {
  // Long enough for the echo below to finish in, on any machine; spin never finishes.
  const p = pool({ timeoutMs: 2_000 });
  expect(await failure(p.run({ op: "spin" }))).toBe("timeout");
  // Queued behind a spinning task: it waits for the replacement and then runs.
  const [spun, next] = await Promise.all([
    failure(p.run({ op: "spin" })),
    p.run({ op: "echo", value: "next" }),
  ]);
  expect(spun).toBe("timeout");
  expect(next).toContain("echo next");
});

test("a task that grows without end is stopped at the heap limit, not the server", async () => {
  const p = pool({ memoryMb: 32 });
  const before = process.memoryUsage().heapUsed;
  expect(await failure(p.run({ op: "grow" }))).toBe("memory");
  // This thread's heap never held what the worker made.
  expect(process.memoryUsage().heapUsed - before).toBeLessThan(32 * 2 ** 20);
  expect(await p.run({ op: "echo", value: "replaced" })).toContain("echo replaced");
});

test("the queue is bounded: past it a task is refused at once", async () => {
  const p = pool({ maxQueue: 1 });
  const running = failure(p.run({ op: "spin" }));
  await expect.poll(() => p.running, { timeout: 60_000 }).toBe(1);
  const waiting = failure(p.run({ op: "spin" }));
  expect(await failure(p.run({ op: "echo", value: "refused" }))).toBe("busy");
  p.close();
  expect([await running, await waiting]).toEqual(["closed", "closed"]);
});

test("aborting a task drops it from the queue, or terminates the worker running it", async () => {
  const p = pool();
  const first = new AbortController();
  const second = new AbortController();
  const running = failure(p.run({ op: "spin" }, first.signal));
  await expect.poll(() => p.running, { timeout: 60_000 }).toBe(1);
  const queued = failure(p.run({ op: "spin" }, second.signal));
  second.abort(new Error("client left"));
  expect(await queued).toBe("Error: client left");
  first.abort(new Error("deadline"));
  expect(await running).toBe("Error: deadline");
  expect(await p.run({ op: "echo", value: "again" })).toContain("echo again");
});

test("a module that cannot load fails the task instead of restarting forever", async () => {
  const p = new WorkerPool<PoolTestTask, string>({
    module: new URL("./helpers/no-such-module.ts", import.meta.url),
    size: 2,
    maxQueue: 4,
    timeoutMs: 60_000,
    memoryMb: 64,
  });
  pools.push(p);
  expect(await failure(p.run({ op: "echo", value: "x" }))).toBe("crashed");
});
