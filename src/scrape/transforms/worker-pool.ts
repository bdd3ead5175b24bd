import { Worker } from "node:worker_threads";

/** Why a task produced no output. */
export type TaskFailure =
  /** The queue was full: the task never started. */
  | "busy"
  /** It ran past the pool's time limit; its worker was terminated. */
  | "timeout"
  /** Its worker reached the heap limit and was ended by V8. */
  | "memory"
  /** Its worker died otherwise, or could not start. */
  | "crashed"
  /** The task's own code threw; the worker lives on. */
  | "failed"
  /** The pool was closed first. */
  | "closed";

/** A task that produced no output, and why. */
export class TaskError extends Error {
  override name = "TaskError";
  constructor(
    readonly reason: TaskFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface WorkerPoolOptions {
  /** A TypeScript module whose default export turns one input into one output (may be async). */
  module: URL;
  /** Workers at most; each starts on first need and is replaced when it dies. */
  size: number;
  /** Tasks that may wait for a worker; past that a task fails "busy" at once. */
  maxQueue: number;
  /** How long one task may run before its worker is terminated. */
  timeoutMs: number;
  /** Each worker's V8 old-generation heap limit: what one task can take of the server's memory. */
  memoryMb: number;
}

interface Task {
  id: number;
  input: unknown;
  resolve(output: unknown): void;
  reject(err: Error): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface Member {
  worker: Worker;
  /** Its module is loaded: tasks may be sent. */
  ready: boolean;
  /** Being terminated: takes no task, counts against `size` until it has exited. */
  retired: boolean;
  task?: Task;
  timer?: NodeJS.Timeout;
  /** The last 'error' event, read when the worker exits (an out-of-memory names itself there). */
  error?: Error & { code?: string };
}

const ENTRY = new URL("./worker-entry.mjs", import.meta.url);

/**
 * A bounded pool of worker threads for CPU-heavy work that must not hold the event loop: at most
 * `size` workers, at most `maxQueue` tasks waiting, each task bounded in time (the worker is
 * terminated past it) and each worker in heap (V8 ends it, not the server). A dead worker is
 * replaced when the next task needs one.
 */
export class WorkerPool<I, O> {
  private readonly members = new Set<Member>();
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly opts: WorkerPoolOptions) {}

  /** Runs one task; aborting `signal` drops it from the queue or terminates its worker. */
  run(input: I, signal?: AbortSignal): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      if (this.closed) return reject(new TaskError("closed", "The worker pool is closed."));
      if (signal?.aborted) return reject(abortReason(signal));
      if (this.queue.length >= this.opts.maxQueue) {
        return reject(new TaskError("busy", `${this.queue.length} tasks are already waiting.`));
      }
      const task: Task = { id: this.nextId++, input, resolve: resolve as Task["resolve"], reject };
      if (signal) {
        task.signal = signal;
        task.onAbort = () => this.abort(task);
        signal.addEventListener("abort", task.onAbort, { once: true });
      }
      this.queue.push(task);
      this.dispatch();
    });
  }

  /** Starts a worker ahead of the first task, so that its start overlaps other work. */
  warm(): void {
    if (!this.closed && this.members.size === 0) this.spawn();
  }

  /** Tasks running now. */
  get running(): number {
    return [...this.members].filter((m) => m.task).length;
  }

  /** Fails waiting tasks, terminates every worker and waits for them to exit. */
  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) {
      this.settle(task, new TaskError("closed", "The worker pool is closed."));
    }
    const exits = [...this.members].map((m) => new Promise((r) => m.worker.once("exit", r)));
    for (const m of this.members) this.retire(m, new TaskError("closed", "The pool is closed."));
    await Promise.all(exits);
  }

  private dispatch(): void {
    if (this.closed) return;
    for (const m of this.members) {
      if (this.queue.length === 0) return;
      if (m.ready && !m.retired && !m.task) this.start(m, this.queue.shift()!);
    }
    const starting = [...this.members].filter((m) => !m.ready && !m.retired).length;
    for (let n = starting; n < this.queue.length && this.members.size < this.opts.size; n++) {
      this.spawn();
    }
  }

  private start(m: Member, task: Task): void {
    m.task = task;
    m.timer = setTimeout(() => {
      const s = this.opts.timeoutMs / 1000;
      this.retire(m, new TaskError("timeout", `The task took longer than ${s} s.`));
    }, this.opts.timeoutMs);
    m.worker.postMessage({ id: task.id, input: task.input });
  }

  private spawn(): void {
    const worker = new Worker(ENTRY, {
      // Nothing inherited: the entry sets up TypeScript itself, whatever started the server.
      execArgv: [],
      workerData: { module: this.opts.module.href },
      resourceLimits: { maxOldGenerationSizeMb: this.opts.memoryMb },
    });
    worker.unref(); // an idle worker never keeps the process alive
    const m: Member = { worker, ready: false, retired: false };
    this.members.add(m);
    worker.on("message", (msg: Reply) => this.onMessage(m, msg));
    worker.on("error", (err) => (m.error = err));
    worker.on("exit", () => this.onExit(m));
  }

  private onMessage(m: Member, msg: Reply): void {
    if ("ready" in msg) {
      m.ready = true;
      return this.dispatch();
    }
    const task = m.task;
    if (!task || task.id !== msg.id) return;
    clearTimeout(m.timer);
    m.task = undefined;
    if (msg.ok) this.settle(task, undefined, msg.output);
    else this.settle(task, new TaskError("failed", `${msg.name}: ${msg.message}`));
    this.dispatch();
  }

  private onExit(m: Member): void {
    this.members.delete(m);
    clearTimeout(m.timer);
    const oom = m.error?.code === "ERR_WORKER_OUT_OF_MEMORY";
    const why = m.error?.message ?? "the worker exited";
    if (m.task) {
      const err = oom
        ? new TaskError("memory", `The task needed more than ${this.opts.memoryMb} MB of heap.`)
        : new TaskError("crashed", `The worker died: ${why}`);
      this.settle(m.task, err);
      m.task = undefined;
    } else if (!m.ready && !m.retired) {
      // It died loading its module: so would the next one. Fail the waiting tasks, not loop.
      for (const task of this.queue.splice(0)) {
        this.settle(task, new TaskError("crashed", `The worker could not start: ${why}`));
      }
    }
    this.dispatch();
  }

  /** Terminates a worker; its task, if any, fails with `err` at once. */
  private retire(m: Member, err: Error): void {
    m.retired = true;
    clearTimeout(m.timer);
    if (m.task) this.settle(m.task, err);
    m.task = undefined;
    void m.worker.terminate();
  }

  private abort(task: Task): void {
    const queued = this.queue.indexOf(task);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      return this.settle(task, abortReason(task.signal!));
    }
    for (const m of this.members) {
      if (m.task === task) this.retire(m, abortReason(task.signal!));
    }
  }

  private settle(task: Task, err: Error | undefined, output?: unknown): void {
    if (task.onAbort) task.signal!.removeEventListener("abort", task.onAbort);
    if (err) task.reject(err);
    else task.resolve(output);
  }
}

type Reply =
  | { ready: true }
  | { id: number; ok: true; output: unknown }
  | { id: number; ok: false; name: string; message: string };

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new TaskError("closed", "Aborted.");
}
