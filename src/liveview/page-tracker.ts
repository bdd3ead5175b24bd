import type { BrowserContext, Page } from "playwright-core";

/**
 * Knows which tab of a session the live view shows: the most recently opened page that is still
 * open. Tabs the session's code opens (including popups, and pages opened by other CDP clients of
 * the same browser) take over; closing one falls back to the one opened before it.
 */
export class PageTracker {
  private readonly pages: Page[] = [];
  private readonly onPage = (page: Page) => this.add(page, true);

  constructor(
    private readonly context: BrowserContext,
    private readonly onChange: () => void,
  ) {
    for (const page of context.pages()) this.add(page, false);
    context.on("page", this.onPage);
  }

  /** The page on show, or undefined when the session has no open tab. */
  current(): Page | undefined {
    return this.pages.at(-1);
  }

  dispose(): void {
    this.context.off("page", this.onPage);
    this.pages.length = 0;
  }

  private add(page: Page, notify: boolean): void {
    if (page.isClosed() || this.pages.includes(page)) return;
    this.pages.push(page);
    page.once("close", () => {
      const i = this.pages.indexOf(page);
      if (i < 0) return;
      const wasCurrent = i === this.pages.length - 1;
      this.pages.splice(i, 1);
      if (wasCurrent) this.onChange();
    });
    if (notify) this.onChange();
  }
}
