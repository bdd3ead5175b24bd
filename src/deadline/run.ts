import { Deadline } from "./deadline.js";

/**
 * The rules every run of a caller's code or prompt is held to, whoever runs it (a sandbox worker,
 * the agent in a session): how long it may take, how long it is waited for past that, and how a
 * run stopped at its timeout is reported.
 */

/** Longest `timeout` a call may give its run, in seconds. */
export const MAX_RUN_SECONDS = 300;

/** Exit code of a run stopped at its timeout, as coreutils' timeout(1) reports one. */
export const TIMED_OUT_EXIT_CODE = 124;

/**
 * How long past its deadline a run that was told of it (a runner given its timeout, a task given
 * its signal) is waited for, to stop by itself and answer, before it is abandoned.
 */
export const RUN_GRACE_MS = 1_500;

/** How long a run that did not answer in its grace waits for its killed runner to be gone. */
export const RUN_EXIT_WAIT_MS = 2_000;

/**
 * The latest a running call answers past its deadline: the grace and the wait for a killed
 * runner, with a margin. What a call waiting behind it is told to expect.
 */
export const RUN_OVERRUN_MS = RUN_GRACE_MS + RUN_EXIT_WAIT_MS + 500;

/** What `withGrace` saw: the run's value, unless it was abandoned. */
export interface GraceOutcome<T> {
  /** Undefined when the run had not answered RUN_GRACE_MS after its deadline ended. */
  value: T | undefined;
  /** The deadline ended (time ran out, or `signal` aborted) before the run answered. */
  ended: boolean;
}

/**
 * Runs `run` under a deadline of `timeoutMs` (ended early when `signal` aborts) that it is told
 * of, and waits for its answer until RUN_GRACE_MS after that deadline ends. A run that rejects
 * rejects this; one abandoned may still settle later, and nobody hears of it.
 */
export async function withGrace<T>(
  run: (deadline: Deadline) => Promise<T>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<GraceOutcome<T>> {
  const deadline = new Deadline(timeoutMs, { signal });
  let late: NodeJS.Timeout | undefined;
  const abandoned = new Promise<undefined>((resolve) => {
    const wait = () => (late = setTimeout(() => resolve(undefined), RUN_GRACE_MS));
    if (deadline.signal.aborted) wait();
    else deadline.signal.addEventListener("abort", wait, { once: true });
  });
  try {
    const value = await Promise.race([run(deadline), abandoned]);
    return { value, ended: deadline.signal.aborted };
  } finally {
    clearTimeout(late);
    deadline.dispose();
  }
}
