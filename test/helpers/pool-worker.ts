import { threadId } from "node:worker_threads";

/** A worker-pool task module for tests: each input names what the task does. */
export type PoolTestTask =
  | { op: "echo"; value: string }
  | { op: "spin" }
  | { op: "grow" }
  | { op: "throw"; message: string };

const hoard: string[][] = [];

export default function handle(task: PoolTestTask): string {
  switch (task.op) {
    case "echo":
      return `echo ${task.value} from thread ${threadId}`;
    case "spin":
      for (;;); // never returns: only terminating the thread stops it
    case "grow":
      // Keeps everything it makes, so the heap can only grow until V8 stops the thread.
      for (;;) hoard.push(Array.from({ length: 100_000 }, (_, i) => `grow ${i} ${hoard.length}`));
    case "throw":
      throw new RangeError(task.message);
  }
}
