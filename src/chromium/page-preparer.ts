import { CdpClient, type CdpCommand } from "../cdp/client.js";
import type { CdpMux } from "../cdp/mux.js";

/** A command for each target, and the error that means it was already in effect. */
export interface TargetCommand extends CdpCommand {
  /**
   * Part of the error Chromium answers when another CDP session already set this on the same
   * renderer process (a locale override is per process, and a popup shares its opener's).
   * The value is then already there, so it counts as done.
   */
  alreadySet?: string;
}

/** What to do to a browser and to each of its pages before the page runs. */
export interface TargetSetup {
  /** Sent once to the browser target; they hold while the preparer stays connected. */
  browser: CdpCommand[];
  /** Sent to every top-level page. */
  page: TargetCommand[];
  /** Sent to every out-of-process iframe (a target of its own); none: iframes are left alone. */
  frame: TargetCommand[];
  /** Events of the prepared targets that onEvent wants (method names); others are dropped. */
  events: string[];
  /** Handles one of those events; `reply` sends a command back on that target's session. */
  onEvent?(
    method: string,
    params: Record<string, unknown>,
    reply: (method: string, params: Record<string, unknown>) => void,
  ): void;
}

/** How long one target's commands may take once it exists. */
const TARGET_TIMEOUT_MS = 10_000;

/**
 * Applies a TargetSetup to every page a browser opens, whoever opens it (this server, user code
 * over CDP, a `target=_blank` link, `window.open`), before the page runs a line of its own.
 *
 * It is a CDP client of its own on the browser's mux that auto-attaches with
 * `waitForDebuggerOnStart`: Chromium holds each new page until every client that asked so has
 * let it run, so other clients doing the same (Playwright does) only add their own wait. The
 * commands are sent together with `Runtime.runIfWaitingForDebugger`, not before it: a page a
 * renderer opened (a popup) answers nothing while it is held, and CDP applies one session's
 * commands in order, so they still take effect before the page's first script. What they set
 * lasts while this client stays attached, which is for the page's life (or the browser's).
 *
 * A few settings are held per renderer process by the session that set them first (locale,
 * time zone): a popup sharing its opener's process gets "already in effect", and loses the value
 * when the opener closes. So whenever a target goes, those commands are sent again to the
 * targets left, and the one that lost its value takes it back.
 */
export class PagePreparer {
  private readonly client: CdpClient;
  private readonly preparing = new Set<Promise<void>>();
  private readonly eventHeads: string[];
  /** Each prepared target's commands that can be "already in effect", by session id. */
  private readonly perProcess = new Map<string, TargetCommand[]>();

  private constructor(
    mux: CdpMux,
    private readonly setup: TargetSetup,
  ) {
    this.eventHeads = setup.events.map((m) => `{"method":${JSON.stringify(m)},`);
    this.client = new CdpClient(mux, (text) => this.onEvent(text));
  }

  /**
   * Starts preparing the browser behind `mux`: sends the browser commands, prepares the pages
   * already open and every later one. Resolves once the open pages are prepared; throws (and
   * detaches) when that fails or takes longer than timeoutMs.
   */
  static async start(mux: CdpMux, setup: TargetSetup, timeoutMs: number): Promise<PagePreparer> {
    const preparer = new PagePreparer(mux, setup);
    try {
      const end = Date.now() + timeoutMs;
      const left = () => Math.max(1, end - Date.now());
      for (const c of setup.browser) {
        await preparer.client.send(c.method, c.params, { timeoutMs: left() });
      }
      await preparer.client.send(
        "Target.setAutoAttach",
        { autoAttach: true, waitForDebuggerOnStart: true, flatten: true, filter: PAGES },
        { timeoutMs: left() },
      );
      // Chromium reports the pages already open before it answers setAutoAttach.
      await within(Promise.all(preparer.preparing), left());
    } catch (err) {
      preparer.close();
      throw err;
    }
    return preparer;
  }

  /** Detaches: what the commands set on pages and the browser is lifted. */
  close(): void {
    this.client.close();
  }

  private onEvent(text: string): void {
    if (text.startsWith(ATTACHED)) {
      const msg = JSON.parse(text) as { params: Attached };
      const job = this.prepare(msg.params);
      this.preparing.add(job);
      void job.then(
        () => this.preparing.delete(job),
        () => this.preparing.delete(job),
      );
      return;
    }
    if (text.startsWith(DETACHED)) {
      const msg = JSON.parse(text) as { params: { sessionId: string } };
      if (this.perProcess.delete(msg.params.sessionId)) this.reassert();
      return;
    }
    if (!this.setup.onEvent || !this.eventHeads.some((h) => text.startsWith(h))) return;
    const msg = JSON.parse(text) as {
      method: string;
      params: Record<string, unknown>;
      sessionId: string;
    };
    this.setup.onEvent(msg.method, msg.params, (method, params) => {
      const opts = { sessionId: msg.sessionId, timeoutMs: TARGET_TIMEOUT_MS };
      this.client.send(method, params, opts).catch(() => {}); // the target may be gone
    });
  }

  private async prepare({ sessionId, targetInfo }: Attached): Promise<void> {
    const commands =
      targetInfo.type === "page"
        ? this.setup.page
        : targetInfo.type === "iframe"
          ? this.setup.frame
          : [];
    const opts = { sessionId, timeoutMs: TARGET_TIMEOUT_MS };
    const perProcess = commands.filter((c) => c.alreadySet);
    if (perProcess.length > 0) this.perProcess.set(sessionId, perProcess);
    const sent = commands.map((c) =>
      this.client.send(c.method, c.params, opts).catch(tolerateAlreadySet(c)),
    );
    if (this.setup.frame.length > 0) {
      // Out-of-process iframes are targets of their page, not of the browser.
      const attach = {
        autoAttach: true,
        waitForDebuggerOnStart: true,
        flatten: true,
        filter: FRAMES,
      };
      sent.push(this.client.send("Target.setAutoAttach", attach, opts));
    }
    sent.push(this.client.send("Runtime.runIfWaitingForDebugger", {}, opts));
    await Promise.all(sent);
  }

  /** Sends the per-process commands again to every target left (see the class comment). */
  private reassert(): void {
    for (const [sessionId, commands] of this.perProcess) {
      for (const c of commands) {
        const opts = { sessionId, timeoutMs: TARGET_TIMEOUT_MS };
        this.client.send(c.method, c.params, opts).catch(() => {}); // mostly "already in effect"
      }
    }
  }
}

interface Attached {
  sessionId: string;
  targetInfo: { type: string };
}

/** A rejection handler for command c that takes "already in effect" for done. */
export function tolerateAlreadySet(c: TargetCommand): (err: unknown) => void {
  return (err) => {
    if (c.alreadySet && err instanceof Error && err.message.includes(c.alreadySet)) return;
    throw err;
  };
}

/** Settles as p does, or fails after ms. */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`pages not prepared within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const ATTACHED = '{"method":"Target.attachedToTarget",';
const DETACHED = '{"method":"Target.detachedFromTarget",';
const PAGES = [{ type: "page" }];
const FRAMES = [{ type: "iframe" }];
