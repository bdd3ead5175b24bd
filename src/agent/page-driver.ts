import type { BrowserContext, Locator, Page } from "playwright-core";
import { settle } from "./settle.js";
import { takeSnapshot, type PageView } from "./snapshot/page-snapshot.js";
import { RefTable, type Ref } from "./snapshot/refs.js";
import type { AgentCall } from "./tools.js";

/** The longest one action may wait for its element. */
const ACTION_TIMEOUT_MS = 5_000;
const READ_CHARS = 4_000;
const FIND_MATCHES = 12;

/** What one tool did: a line for the log and the model, and the page after it. */
export interface Outcome {
  line: string;
  /** The page as it is now, when the call looked at it or changed it. */
  view?: PageView;
  /** The call failed (the model is told why). */
  failed?: boolean;
}

/** A ref that no longer names an element: the model gets the page as it is now. */
class StaleRef extends Error {}

/**
 * The agent's hands on the session's browser: which tab it works in, the refs of the latest
 * snapshot, and one method per tool. Every action waits for the page to settle and snapshots it.
 */
export class PageDriver {
  readonly refs = new RefTable();
  private page: Page | undefined;
  private latest: PageView | undefined;

  constructor(
    private readonly context: BrowserContext,
    private readonly budgetTokens: number,
    /** When the run's time is up (ms since the epoch). */
    private readonly deadline: number,
  ) {}

  /** The newest snapshot taken. */
  get view(): PageView | undefined {
    return this.latest;
  }

  /** The tab code left the session in (the newest open one), or a new one. */
  async current(): Promise<Page> {
    if (this.page && !this.page.isClosed()) return this.page;
    const open = this.context.pages().filter((p) => !p.isClosed());
    this.page = open.at(-1) ?? (await this.context.newPage());
    return this.page;
  }

  async snapshot(): Promise<PageView> {
    const page = await this.current();
    this.latest = await takeSnapshot(page, this.refs, {
      budgetTokens: this.budgetTokens,
      timeoutMs: this.timeout(),
    });
    return this.latest;
  }

  /** Runs one tool call (not done, which the loop handles). */
  async run(call: Exclude<AgentCall, { tool: "done" }>): Promise<Outcome> {
    try {
      switch (call.tool) {
        case "snapshot":
          return { line: "looked at the page", view: await this.snapshot() };
        case "find_text":
          return { line: await this.findText(call.text) };
        case "read":
          return { line: await this.read(call.ref, call.offset) };
        default:
          return await this.act(call);
      }
    } catch (err) {
      if (err instanceof StaleRef) {
        return { line: err.message, view: await this.snapshot(), failed: true };
      }
      const view = await this.snapshot().catch(() => undefined);
      return { line: `${call.tool} failed: ${playwrightMessage(err)}`, failed: true, view };
    }
  }

  private async act(
    call: Exclude<AgentCall, { tool: "done" | "snapshot" | "find_text" | "read" }>,
  ): Promise<Outcome> {
    const page = await this.current();
    const before = { url: page.url(), fingerprint: this.latest?.fingerprint };
    let what = "";
    const settled = await settle(
      this.context,
      page,
      async () => {
        switch (call.tool) {
          case "click": {
            const { locator, label } = await this.locate(call.ref);
            what = `clicked ${call.ref} ${label}`;
            await locator.click({ timeout: this.timeout() });
            return;
          }
          case "fill": {
            const { locator, label } = await this.locate(call.ref);
            what = `filled ${call.ref} ${label} with ${JSON.stringify(call.text)}${call.submit ? " and pressed Enter" : ""}`;
            await locator.fill(call.text, { timeout: this.timeout() });
            if (call.submit) await locator.press("Enter", { timeout: this.timeout() });
            return;
          }
          case "select": {
            const { locator, label } = await this.locate(call.ref);
            const chosen = await locator.selectOption(call.options, { timeout: this.timeout() });
            what = `selected ${chosen.map((v) => JSON.stringify(v)).join(", ")} in ${call.ref} ${label}`;
            return;
          }
          case "press": {
            if (call.ref) {
              const { locator, label } = await this.locate(call.ref);
              what = `pressed ${call.key} in ${call.ref} ${label}`;
              await locator.press(call.key, { timeout: this.timeout() });
            } else {
              what = `pressed ${call.key}`;
              await page.keyboard.press(call.key);
            }
            return;
          }
          case "scroll": {
            if (call.ref) {
              const { locator, label } = await this.locate(call.ref);
              what = `scrolled ${call.ref} ${label} into view`;
              await locator.scrollIntoViewIfNeeded({ timeout: this.timeout() });
            } else {
              what = `scrolled ${call.direction}`;
              const height = page.viewportSize()?.height ?? 720;
              await page.mouse.wheel(0, (call.direction === "up" ? -0.8 : 0.8) * height);
            }
            return;
          }
          case "navigate": {
            const url = checkedUrl(call.url, page.url());
            what = `opened ${url}`;
            const res = await page.goto(url, {
              waitUntil: "domcontentloaded",
              timeout: this.timeout(30_000),
            });
            if (res && res.status() >= 400) what += ` (HTTP ${res.status()})`;
            return;
          }
          case "back": {
            const res = await page.goBack({
              waitUntil: "domcontentloaded",
              timeout: this.timeout(30_000),
            });
            what = res === null ? "went back (there was no earlier page in this tab)" : "went back";
            return;
          }
        }
      },
      this.deadline,
    );
    if (settled.opened && !settled.opened.isClosed()) {
      this.page = settled.opened;
      await settled.opened
        .waitForLoadState("domcontentloaded", { timeout: this.timeout() })
        .catch(() => {});
      what += `; it opened a new tab, now in use`;
    }
    const view = await this.snapshot();
    if (view.url !== before.url) what += `; now at ${view.url}`;
    else if (view.fingerprint === before.fingerprint) what += "; the page did not change";
    return { line: what, view };
  }

  /** The element a ref names, or StaleRef. */
  private async locate(ref: Ref): Promise<{ locator: Locator; label: string }> {
    const found = this.refs.resolve(ref);
    if (!found.ok) {
      throw new StaleRef(
        found.reason === "stale"
          ? `stale ref ${ref}: the page changed. Use a ref from the snapshot below.`
          : `no element ${ref} in the snapshot: use a ref from the snapshot below.`,
      );
    }
    const page = await this.current();
    const locator = page.locator(`aria-ref=${found.pw}`);
    if ((await locator.count()) === 0) {
      throw new StaleRef(`stale ref ${ref}: the page changed. Use a ref from the snapshot below.`);
    }
    const label = found.name ? `(${found.role} ${JSON.stringify(found.name)})` : `(${found.role})`;
    return { locator, label };
  }

  /** Lines of the whole page (not only what the budget showed) containing the text. */
  private async findText(text: string): Promise<string> {
    const view = this.latest ?? (await this.snapshot());
    const needle = text.toLowerCase().replace(/\s+/g, " ").trim();
    const hits: string[] = [];
    view.lines.forEach((line, i) => {
      if (hits.length >= FIND_MATCHES || !line.text.toLowerCase().includes(needle)) return;
      const parent = line.parent >= 0 ? view.lines[line.parent]!.text.trim() : "";
      hits.push(
        `line ${i + 1}: ${line.text.trim()}${parent ? `   (in: ${parent.slice(0, 120)})` : ""}`,
      );
    });
    if (hits.length) {
      const total = view.lines.filter((l) => l.text.toLowerCase().includes(needle)).length;
      const more = total > hits.length ? `\n… ${total - hits.length} more` : "";
      return `find_text ${JSON.stringify(text)}: ${total} match${total === 1 ? "" : "es"}\n${hits.join("\n")}${more}`;
    }
    const page = await this.current();
    const hidden = (await page
      .evaluate(
        ([n, max]) => {
          const all = (document.body?.textContent ?? "").replace(/\s+/g, " ");
          const at = all.toLowerCase().indexOf(n as string);
          return at < 0
            ? ""
            : all.slice(
                Math.max(0, at - (max as number)),
                at + (n as string).length + (max as number),
              );
        },
        [needle, 150] as const,
      )
      .catch(() => "")) as string;
    return hidden
      ? `find_text ${JSON.stringify(text)}: not shown on the page, but in hidden text: "…${hidden.trim()}…"`
      : `find_text ${JSON.stringify(text)}: not on the page`;
  }

  /** The text of an element or of the page, READ_CHARS at a time. */
  private async read(ref: Ref | undefined, offset: number): Promise<string> {
    const page = await this.current();
    const whole = ref
      ? await (await this.locate(ref)).locator.innerText({ timeout: this.timeout() })
      : ((await page.evaluate(() => document.body?.innerText ?? "")) as string);
    const text = whole.replace(/\n{3,}/g, "\n\n").trim();
    const part = text.slice(offset, offset + READ_CHARS);
    const end = offset + part.length;
    const rest =
      end < text.length
        ? `\n[${end} of ${text.length} characters; read again with offset ${end} for more]`
        : "";
    return `read ${ref ?? "page"}${offset ? ` from ${offset}` : ""}:\n${part}${rest}`;
  }

  private timeout(cap = ACTION_TIMEOUT_MS): number {
    return Math.max(1, Math.min(cap, this.deadline - Date.now()));
  }
}

/** An address the navigate tool may open: http(s) only, relative ones against the page. */
function checkedUrl(raw: string, base: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim(), /^https?:/.test(base) ? base : undefined);
  } catch {
    throw new Error(`"${raw}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`only http and https addresses can be opened, not ${url.protocol}`);
  }
  return url.href;
}

/** The useful first line of a Playwright error, without the call log. */
export function playwrightMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const lines = msg.split("\n").map((l) => l.trim());
  const cover = lines.find((l) => /intercepts pointer events/.test(l));
  const head = (lines[0] ?? "").replace(/^[a-zA-Z.]+: /, "");
  const text = cover ? `${head}; another element covers it: ${cover.replace(/^-\s*/, "")}` : head;
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}
