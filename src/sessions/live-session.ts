import type WebSocket from "ws";
import type { OpenProfile } from "../profiles/service.js";
import type { SessionKind } from "../store/repositories.js";
import { CodeUnavailableError, type ExecResult, type Language } from "../sandbox/index.js";
import type { SessionResources } from "./resources.js";
import { CallQueue, type TeamCallQueues, type Turn } from "./call-queue.js";
import { TIMED_OUT_EXIT_CODE, withGrace } from "../deadline/run.js";

export type EndReason =
  | "stopped"
  | "ttl"
  | "idle"
  | "browser_crashed"
  | "shutdown"
  /** Another node declared this one lost and ended its sessions' records. */
  | "node_lost";

/** How long a session may live, and what kind it is: fixed when it is made. */
export interface SessionShape {
  kind: SessionKind;
  /** Longest life, from startedAt. */
  ttlMs: number;
  /** Longest time without activity while nothing runs. */
  idleTtlMs: number;
  /** Whether its live view streams (a /v2/browser option; informational here). */
  streamWebView: boolean;
  /** Keep nothing of what it shows: its record keeps no address it was on. */
  zeroDataRetention?: boolean;
  /** Whether what its live view shows is recorded (recordSession). */
  record?: boolean;
}

/** How many calls may wait in one session, and the team's count across its sessions. */
export interface CallLimits {
  perSession: number;
  team: TeamCallQueues;
}

/** What a long task (not user code: the AI agent) gets: its deadline's signal. */
export interface TaskContext {
  /** Aborts when the task's time is up or the session ends. */
  signal: AbortSignal;
  /** When the task's time is up (ms since the epoch), for waits that take a timeout. */
  deadline: number;
}

/**
 * A live browser session bound to one scrape. Everything that touches its browser on behalf of
 * a caller (code in any language, a long task) runs through one ordered queue, one at a time
 * (call-queue.ts: bounded, and a call's timeout counts from its arrival). It never comes back
 * once ended; ending is Lifetimes' job (see lifetimes.ts).
 */
export class LiveSession {
  /** When the browser was ready for the caller: what a session's duration counts from. */
  readonly startedAt = Date.now();
  /** Last activity, for the idle timer: moved by touch() (tests move it back to age a session). */
  lastUsedAt = Date.now();
  private calling = 0;
  /** Set once, by the first end; see Lifetimes.end. */
  private ending: EndReason | undefined;
  private promptRan = false;
  private callsRun = 0;
  private readonly calls: CallQueue;
  private readonly languagesRun = new Set<Language>();
  private readonly ended = new AbortController();
  private readonly endHooks: (() => void)[] = [];
  /** Work that needs the browser as the session ends (saving its last downloads). */
  private readonly finishers: (() => Promise<unknown>)[] = [];
  /** Clients connected through cdpUrl; each is closed as the session ends. */
  private readonly cdpClients = new Set<WebSocket>();

  readonly id: string;
  /** The key it is bound to: its scrape's id, or (a standalone browser session) its own id. */
  readonly scrapeId: string;
  readonly teamId: string;
  /** The secret in its cdpUrl. */
  readonly cdpToken: string;
  readonly resources: SessionResources;
  readonly shape: SessionShape;
  /** The named profile it started from; saved back (if it writes) as it ends. */
  private readonly profile?: OpenProfile;
  /** Told when a language runs code here for the first time. */
  private readonly onNewLanguage?: (session: LiveSession) => void;

  constructor(o: {
    id: string;
    scrapeId: string;
    teamId: string;
    cdpToken: string;
    resources: SessionResources;
    shape: SessionShape;
    limits: CallLimits;
    profile?: OpenProfile;
    onNewLanguage?: (session: LiveSession) => void;
  }) {
    this.id = o.id;
    this.scrapeId = o.scrapeId;
    this.teamId = o.teamId;
    this.cdpToken = o.cdpToken;
    this.resources = o.resources;
    this.shape = o.shape;
    this.profile = o.profile;
    this.onNewLanguage = o.onNewLanguage;
    this.calls = new CallQueue(o.teamId, o.limits.perSession, o.limits.team);
  }

  /** When its TTL ends it (ms since the epoch). */
  get expiresAt(): number {
    return this.startedAt + this.shape.ttlMs;
  }

  /** Calls running or queued; a busy session is never idle. */
  get busy(): number {
    return this.calling;
  }

  /** Why it ended, set once by the first end; see Lifetimes.end. */
  get endedBy(): EndReason | undefined {
    return this.ending;
  }

  get alive(): boolean {
    return this.ending === undefined;
  }

  /** The address of the newest tab still open (the one the live view shows), for listings. */
  get currentUrl(): string | undefined {
    return this.resources.context.pages().at(-1)?.url();
  }

  /** True once any prompt ran here (the higher billing rate). */
  get usedPrompt(): boolean {
    return this.promptRan;
  }

  /** Records that a prompt runs here: from now on the session bills at the prompt rate. */
  markUsedPrompt(): void {
    this.promptRan = true;
  }

  /** Languages that have run code here, in the order first used. */
  get languages(): Language[] {
    return [...this.languagesRun];
  }

  /** Calls that got their turn here (code and long tasks), however they ended. */
  get callCount(): number {
    return this.callsRun;
  }

  /** Clients connected through cdpUrl now. */
  get cdpClientCount(): number {
    return this.cdpClients.size;
  }

  /**
   * Serves a client's CDP WebSocket (cdpUrl) as one more connection to this session's browser,
   * until either ends.
   */
  attachCdpClient(ws: WebSocket): void {
    if (!this.alive) return void ws.close(1001, "session ended");
    this.cdpClients.add(ws);
    ws.once("close", () => this.cdpClients.delete(ws));
    this.touch();
    ws.on("message", () => this.touch());
    this.resources.proc.cdp.attach(ws);
  }

  /**
   * Runs code in the language's worker (started on first use), after every earlier call, within
   * `timeoutMs` of now. A call whose `signal` aborts (its client left) while it waits never runs.
   */
  exec(
    language: Language,
    code: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<ExecResult> {
    const expired = (): ExecResult => ({
      stdout: "",
      stderr: "",
      result: "",
      exitCode: TIMED_OUT_EXIT_CODE,
      killed: true,
      error: timedOutWaiting(timeoutMs, "code"),
    });
    return this.enqueue(timeoutMs, signal, expired, async (turn) => {
      if (!this.languagesRun.has(language)) {
        this.languagesRun.add(language);
        this.onNewLanguage?.(this);
      }
      let worker;
      try {
        worker = await this.resources.sandbox.worker(language);
      } catch (err) {
        // The caller learns what it can act on; the worker's own output went to the server log.
        if (err instanceof CodeUnavailableError) throw err;
        return {
          stdout: "",
          stderr: "",
          result: "",
          exitCode: 1,
          killed: false,
          error: `The ${language} worker could not start in this session's sandbox; try again.`,
        };
      }
      const result = await worker.exec(code, turn.remainingMs);
      // The run is over, but a page script it started (an endless loop in page.evaluate) would
      // keep a renderer busy at full CPU and every later call on that page waiting.
      if (result.killed) this.resources.proc.scripts.stopAll();
      return result.killed && turn.waitedMs > 0 && result.error
        ? { ...result, error: timedOutAfterWait(result.error, timeoutMs, turn.waitedMs) }
        : result;
    });
  }

  /**
   * Runs a long task that is not user code (the AI agent) under the same queue, with the same
   * timeout semantics as code: past `timeoutMs`, or when the session ends, its signal aborts. A
   * task that does not return within the runs' grace period after that is abandoned, and the
   * caller gets `partial()`: what it had reported so far, with `killed: true` and exit code 124.
   */
  task<R extends ExecResult>(
    run: (ctx: TaskContext) => Promise<R>,
    timeoutMs: number,
    partial: () => R,
    signal?: AbortSignal,
  ): Promise<R> {
    const expired = (): R => ({
      ...partial(),
      exitCode: TIMED_OUT_EXIT_CODE,
      killed: true,
      error: timedOutWaiting(timeoutMs, "prompt"),
    });
    return this.enqueue(timeoutMs, signal, expired, async (turn) => {
      const { value: result, ended } = await withGrace(
        (d) => run({ signal: d.signal, deadline: d.endsAt }),
        turn.remainingMs,
        this.ended.signal,
      );
      if (result && !ended) return result;
      if (ended) this.resources.proc.scripts.stopAll();
      return {
        ...(result ?? partial()),
        exitCode: TIMED_OUT_EXIT_CODE,
        killed: true,
        error: this.alive
          ? timedOutAfterWait(`Execution timed out after ${timeoutMs} ms`, timeoutMs, turn.waitedMs)
          : "The session ended while the task ran",
      };
    });
  }

  /** Marks activity (a code run, CDP traffic, a live view input) for the idle timer. */
  touch(): void {
    this.lastUsedAt = Date.now();
  }

  /**
   * Marks the session ended and frees every process it had. Only Lifetimes calls this; it
   * decides the reason once. Idempotent.
   */
  async close(reason: EndReason): Promise<void> {
    this.ending ??= reason;
    this.ended.abort();
    for (const ws of this.cdpClients) ws.close(1001, "session ended");
    for (const hook of this.endHooks.splice(0)) {
      try {
        hook();
      } catch {}
    }
    // Its state is read before the browser goes; a crashed browser has none left to read.
    await Promise.all([
      this.profile
        ?.finish(reason === "browser_crashed" ? undefined : this.resources.context)
        .catch(() => undefined),
      ...this.finishers.splice(0).map((finish) => finish().catch(() => undefined)),
    ]);
    await this.resources.release();
  }

  /** Runs `finish` as the session ends, before its browser goes (not at all if it has gone). */
  beforeRelease(finish: () => Promise<unknown>): void {
    if (this.alive) this.finishers.push(finish);
  }

  /** Runs `cb` once the session ends (at once if it has). */
  whenEnded(cb: () => void): void {
    if (this.alive) this.endHooks.push(cb);
    else cb();
  }

  /** Calls waiting behind the running one. */
  get waitingCalls(): number {
    return this.calls.waitingCount;
  }

  /**
   * Runs `fn` in its turn, with what its timeout leaves; `expired` answers a call whose time ran
   * out while it waited. Refuses (429) at once when no waiting place is free.
   */
  private async enqueue<T>(
    timeoutMs: number,
    signal: AbortSignal | undefined,
    expired: (waitedMs: number) => T,
    fn: (turn: Turn) => Promise<T>,
  ): Promise<T> {
    const entered = this.calls.enter(timeoutMs, signal);
    this.calling++;
    try {
      const turn = await entered;
      if (turn.expired) return expired(turn.waitedMs);
      this.callsRun++;
      try {
        this.touch();
        return await fn(turn);
      } finally {
        turn.done();
      }
    } finally {
      this.calling--;
      this.touch();
    }
  }
}

/** The answer to a call whose timeout ran out while it waited for earlier calls. */
function timedOutWaiting(timeoutMs: number, what: "code" | "prompt"): string {
  return (
    `Execution timed out after ${timeoutMs} ms while waiting for earlier calls in this session; ` +
    `the ${what} did not run (a call's timeout counts from its arrival).`
  );
}

/** A run's timeout message, restated from the call's arrival: the runner only saw what was left. */
function timedOutAfterWait(error: string, timeoutMs: number, waitedMs: number): string {
  if (waitedMs <= 0) return error;
  return error.replace(
    /^Execution timed out after \d+ ms/,
    `Execution timed out after ${timeoutMs} ms (${waitedMs} ms of it waiting for earlier calls in this session)`,
  );
}
