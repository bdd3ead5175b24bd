import { RUN_OVERRUN_MS } from "../deadline/run.js";
import { AppError } from "../errors/app-error.js";

/** The client closed the connection while its call waited: the call never ran. */
export class CallAbandonedError extends Error {
  constructor() {
    super("The client closed the connection before the call ran.");
    this.name = "CallAbandonedError";
  }
}

/** A call's turn to run, with the time its deadline leaves it. */
export interface Turn {
  expired: false;
  /** What is left of the call's timeout, which counts from its arrival. */
  remainingMs: number;
  /** How long it waited behind earlier calls. */
  waitedMs: number;
  /** Hands the session to the next call waiting. Idempotent. */
  done(): void;
}

/** A call whose timeout ran out while it waited: it is answered without running. */
export interface Expired {
  expired: true;
  waitedMs: number;
}

interface Waiter {
  deadline: number;
  start(): void;
  expire(): void;
}

/**
 * The calls waiting in every session of each team, against the per-team limit: one team's
 * load cannot fill what the server has. Only calls waiting count; a running call does not.
 */
export class TeamCallQueues {
  private readonly byTeam = new Map<string, Set<CallQueue>>();

  constructor(readonly limit: number) {}

  /** Calls of the team waiting, across its sessions. */
  waiting(teamId: string): number {
    let n = 0;
    for (const q of this.byTeam.get(teamId) ?? []) n += q.waitingCount;
    return n;
  }

  /** The soonest one of the team's waiting places frees up. */
  soonestFree(teamId: string): number {
    let soonest = Infinity;
    for (const q of this.byTeam.get(teamId) ?? []) soonest = Math.min(soonest, q.soonestFree());
    return soonest;
  }

  /** Keeps track of the queues that hold waiting calls, so the sums stay small. */
  update(teamId: string, queue: CallQueue): void {
    let set = this.byTeam.get(teamId);
    if (queue.waitingCount > 0) {
      if (!set) this.byTeam.set(teamId, (set = new Set()));
      set.add(queue);
    } else if (set?.delete(queue) && set.size === 0) {
      this.byTeam.delete(teamId);
    }
  }
}

/**
 * One session's calls, run one at a time in order of arrival. A bounded number may wait behind
 * the running one (past that a call is refused at once, 429); a waiting call leaves the queue
 * the moment its client goes away or its timeout (counted from its arrival) runs out, so what
 * it carried (up to 100 KB of code) is not kept for a call nobody will read.
 */
export class CallQueue {
  private running: { deadline: number } | undefined;
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly teamId: string,
    private readonly perSession: number,
    private readonly team: TeamCallQueues,
  ) {}

  get waitingCount(): number {
    return this.waiters.length;
  }

  /**
   * The soonest a waiting place frees up: when the running call ends (by its deadline and
   * grace at the latest) or when a waiting call's own time runs out.
   */
  soonestFree(): number {
    let soonest = this.running ? this.running.deadline + RUN_OVERRUN_MS : Date.now();
    for (const w of this.waiters) soonest = Math.min(soonest, w.deadline);
    return soonest;
  }

  /**
   * Takes a call with `timeoutMs` from now: resolves with its turn (the caller must call
   * `done()` when it ends), or with `expired` when its time ran out while it waited; rejects
   * with CallAbandonedError when `signal` aborts first. Throws (429) at once when the session's
   * or the team's limit on waiting calls is reached.
   */
  enter(timeoutMs: number, signal?: AbortSignal): Promise<Turn | Expired> {
    if (signal?.aborted) return Promise.reject(new CallAbandonedError());
    const arrivedAt = Date.now();
    const deadline = arrivedAt + timeoutMs;
    if (!this.running && this.waiters.length === 0) {
      return Promise.resolve(this.begin(arrivedAt, deadline));
    }
    this.admit();
    return new Promise((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", abandon);
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        this.team.update(this.teamId, this);
      };
      const abandon = () => {
        leave();
        reject(new CallAbandonedError());
      };
      const waiter: Waiter = {
        deadline,
        start: () => {
          leave();
          resolve(this.begin(arrivedAt, deadline));
        },
        expire: () => {
          leave();
          resolve({ expired: true, waitedMs: Date.now() - arrivedAt });
        },
      };
      const timer = setTimeout(() => waiter.expire(), timeoutMs);
      signal?.addEventListener("abort", abandon, { once: true });
      this.waiters.push(waiter);
      this.team.update(this.teamId, this);
    });
  }

  private begin(arrivedAt: number, deadline: number): Turn {
    const running = { deadline };
    this.running = running;
    const now = Date.now();
    return {
      expired: false,
      remainingMs: deadline - now,
      waitedMs: now - arrivedAt,
      done: () => {
        if (this.running !== running) return;
        this.running = undefined;
        this.next();
      },
    };
  }

  /** Starts the first waiting call that still has time; the others are answered as expired. */
  private next(): void {
    while (!this.running && this.waiters.length > 0) {
      const first = this.waiters[0]!;
      if (first.deadline <= Date.now()) first.expire();
      else first.start();
    }
  }

  /** Refuses a call with 429 when the session's or the team's waiting places are all taken. */
  private admit(): void {
    if (this.waiters.length >= this.perSession) {
      throw tooManyCalls(
        `This session already has ${this.perSession} calls waiting behind the one running, ` +
          "the most a session takes.",
        this.perSession,
        "session",
        this.soonestFree(),
      );
    }
    if (this.team.waiting(this.teamId) >= this.team.limit) {
      throw tooManyCalls(
        `This team already has ${this.team.limit} calls waiting across its sessions, ` +
          "the most a team may have waiting.",
        this.team.limit,
        "team",
        this.team.soonestFree(this.teamId),
      );
    }
  }
}

/** 429 with when a waiting place should free up. */
function tooManyCalls(
  what: string,
  limit: number,
  scope: "session" | "team",
  freeAt: number,
): AppError {
  const retryAfterSeconds = Number.isFinite(freeAt)
    ? Math.max(1, Math.ceil((freeAt - Date.now()) / 1000))
    : 1;
  return new AppError(
    "TOO_MANY_CALLS",
    `Too many calls waiting: ${what} Wait for earlier calls to finish, then retry (in about ${retryAfterSeconds} s).`,
    { limit, scope, retryAfterSeconds },
    { retryAfterSeconds },
  );
}
