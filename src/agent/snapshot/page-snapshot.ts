import type { Page } from "playwright-core";
import { pageCall } from "../../chromium/page-call.js";
import { CHARS_PER_TOKEN, fitToBudget } from "./budget.js";
import type { RefTable } from "./refs.js";
import {
  normalize,
  renderSnapshot,
  type AriaNode,
  type CollapsedHint,
  type Line,
} from "./render.js";

/** What the model is shown of the page at one moment. */
export interface PageView {
  url: string;
  title: string;
  /** Header and snapshot, within the budget: what goes into the conversation. */
  text: string;
  /** Every line, before the budget: what find_text searches. */
  lines: Line[];
  cut: boolean;
  /** Changes whenever what the model would see changes. */
  fingerprint: string;
}

interface PageInfo {
  scrollY: number;
  scrollHeight: number;
  viewportHeight: number;
  /** One value per document: a new one means every earlier ref is gone. */
  docKey: string;
  title: string;
  hints: CollapsedHint[];
}

/** Runs in the page: scroll figures, title, the document's identity, what collapsed controls hide. */
function pageInfo(max: { name: number; text: number }): PageInfo {
  const norm = (s: string | null | undefined) => (s ?? "").replace(/\s+/g, " ").trim();
  const hints: { name: string; text: string }[] = [];
  const hiddenText = (el: Element | null) => norm(el?.textContent).slice(0, max.text);
  for (const d of Array.from(document.querySelectorAll("details:not([open])"))) {
    const summary = d.querySelector(":scope > summary");
    const name = norm(summary?.textContent);
    const all = norm(d.textContent);
    const text = (all.startsWith(name) ? all.slice(name.length) : all).trim().slice(0, max.text);
    if (name && text) hints.push({ name: name.slice(0, max.name), text });
  }
  const controls = document.querySelectorAll(
    '[aria-expanded="false"], [role="tab"][aria-selected="false"]',
  );
  for (const el of Array.from(controls)) {
    const name = norm(el.getAttribute("aria-label") || el.textContent);
    const ids = (el.getAttribute("aria-controls") ?? "").split(/\s+/).filter(Boolean);
    let text = ids.map((id) => hiddenText(document.getElementById(id))).join(" ");
    if (!text) {
      const next = el.nextElementSibling ?? el.parentElement?.nextElementSibling ?? null;
      const hidden =
        next instanceof HTMLElement && (next.hidden || getComputedStyle(next).display === "none");
      if (hidden) text = hiddenText(next);
    }
    if (name && text) hints.push({ name: name.slice(0, max.name), text: text.slice(0, max.text) });
  }
  return {
    scrollY: Math.round(window.scrollY),
    scrollHeight: document.documentElement.scrollHeight,
    viewportHeight: window.innerHeight,
    docKey: String(performance.timeOrigin),
    title: document.title,
    hints,
  };
}

export interface SnapshotOptions {
  budgetTokens: number;
  timeoutMs: number;
}

/** Snapshots the page for the model; the refs in it become the current ones. */
export async function takeSnapshot(
  page: Page,
  refs: RefTable,
  opts: SnapshotOptions,
): Promise<PageView> {
  const info = (await page.evaluate(pageCall(pageInfo, { name: 120, text: 300 }))) as PageInfo;
  const roots = (await page.ariaSnapshotJSON({
    mode: "ai",
    boxes: true,
    timeout: opts.timeoutMs,
  })) as unknown as (AriaNode | string)[];
  refs.begin(`${info.docKey}`);
  const lines = renderSnapshot(roots, {
    refFor: (pw, role, name) => refs.refFor(pw, role, name),
    viewportHeight: info.viewportHeight,
    hints: info.hints,
  });
  refs.commit();
  const url = page.url();
  const title = normalize(info.title);
  const fitted = fitToBudget(lines, opts.budgetTokens * CHARS_PER_TOKEN);
  const bottom = Math.max(0, info.scrollHeight - info.viewportHeight);
  const header = [
    `URL: ${url}`,
    `Title: ${title || "(none)"}`,
    `Scroll: ${info.scrollY} of ${bottom} px (viewport ${info.viewportHeight} px)`,
  ].join("\n");
  return {
    url,
    title,
    text: `${header}\n${fitted.text || "(the page shows nothing)"}`,
    lines,
    cut: fitted.cut,
    fingerprint: `${url}\n${info.scrollY}\n${lines.map((l) => l.text).join("\n")}`,
  };
}
