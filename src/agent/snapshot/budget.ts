import type { Line } from "./render.js";

/** Characters per token, the rough figure budgets are set in. */
export const CHARS_PER_TOKEN = 4;

export interface Budgeted {
  text: string;
  /** True when lines were left out. */
  cut: boolean;
  shownLines: number;
  totalLines: number;
}

const FOOTER_RESERVE = 400;

/**
 * Fits the snapshot lines into `budgetChars`. Everything fits: all of it. Otherwise every line
 * with a ref and every heading are kept first (nearest the viewport first, should even they not
 * all fit), then the text nearest them; each run of left-out lines becomes one marker line and
 * a footer says what was cut and how to get it.
 */
export function fitToBudget(lines: Line[], budgetChars: number): Budgeted {
  const total = lines.reduce((n, l) => n + l.text.length + 1, 0);
  if (total <= budgetChars) {
    return {
      text: lines.map((l) => l.text).join("\n"),
      cut: false,
      shownLines: lines.length,
      totalLines: lines.length,
    };
  }
  const room = Math.max(0, budgetChars - FOOTER_RESERVE);
  const keep = new Uint8Array(lines.length);
  let used = 0;
  /** Keeps a line with the lines that enclose it; false when it does not fit. */
  const take = (i: number): boolean => {
    const chain: number[] = [];
    let cost = 0;
    for (let j = i; j >= 0 && !keep[j]; j = lines[j]!.parent) {
      chain.push(j);
      cost += lines[j]!.text.length + 1;
    }
    // A marker line per gap, roughly.
    cost += 24;
    if (used + cost > room) return false;
    for (const j of chain) keep[j] = 1;
    used += cost;
    return true;
  };

  const order = (a: number, b: number) => lines[a]!.distance - lines[b]!.distance || a - b;
  // In a long run of alike siblings (a 2,000-row table), its middle comes last: the first rows
  // show what the rows are, and what follows the run (a "Next page" button) stays in view.
  const middle = middleOfRuns(lines);
  const isAnchor = (i: number) => lines[i]!.kind === "ref" || lines[i]!.kind === "heading";
  const all = lines.map((_, i) => i);
  for (const i of all.filter((i) => isAnchor(i) && !middle[i]).sort(order)) take(i);
  // Text by closeness to a kept line, then to the viewport; a long run's middle last.
  const byNearness = (candidates: number[]) => {
    const near = nearestKept(keep);
    return candidates.sort((a, b) => near[a]! - near[b]! || order(a, b));
  };
  for (const i of byNearness(all.filter((i) => !keep[i] && !isAnchor(i) && !middle[i]))) take(i);
  for (const i of all.filter((i) => !keep[i] && isAnchor(i)).sort(order)) take(i);
  for (const i of byNearness(all.filter((i) => !keep[i] && !isAnchor(i)))) take(i);

  const out: string[] = [];
  let gap = 0;
  let gapDepth = 0;
  const flush = () => {
    if (gap) out.push(`${"  ".repeat(gapDepth)}- … ${gap} line${gap === 1 ? "" : "s"} cut`);
    gap = 0;
  };
  let shown = 0;
  let cutRefs = 0;
  let cutText = 0;
  lines.forEach((l, i) => {
    if (keep[i]) {
      flush();
      out.push(l.text);
      shown++;
      return;
    }
    if (!gap) gapDepth = l.depth;
    gap++;
    if (l.kind === "ref") cutRefs++;
    else cutText++;
  });
  flush();
  const cutWhat = [
    cutRefs ? `${cutRefs} line${cutRefs === 1 ? "" : "s"} with refs` : "",
    cutText ? `${cutText} text line${cutText === 1 ? "" : "s"}` : "",
  ]
    .filter(Boolean)
    .join(" and ");
  out.push(
    `[Snapshot cut to about ${Math.round(budgetChars / CHARS_PER_TOKEN)} tokens: ${shown} of ${lines.length} lines shown, ${cutWhat} left out. ` +
      `find_text searches all of the page's text, read gives an element's or the page's full text, scroll moves the view.]`,
  );
  return { text: out.join("\n"), cut: true, shownLines: shown, totalLines: lines.length };
}

const RUN_HEAD = 8;
const RUN_TAIL = 3;

/** 1 for lines in the middle of a long run of alike siblings, else 0. */
function middleOfRuns(lines: Line[]): Uint8Array {
  const groups = new Map<string, number[]>();
  lines.forEach((l, i) => {
    // Alike: same parent and kind, and the same text once names and numbers are blanked.
    const shape = l.text
      .replace(/"[^"]*"/g, '""')
      .replace(/\d+/g, "#")
      .slice(0, 80);
    const key = `${l.parent}:${l.kind}:${shape}`;
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  });
  const middle = new Uint8Array(lines.length);
  for (const group of groups.values()) {
    for (let k = RUN_HEAD; k < group.length - RUN_TAIL; k++) middle[group[k]!] = 1;
  }
  return middle;
}

/** For each line, how many lines away the nearest kept one is. */
function nearestKept(keep: Uint8Array): Int32Array {
  const n = keep.length;
  const dist = new Int32Array(n).fill(n + 1);
  let last = -1;
  for (let i = 0; i < n; i++) {
    if (keep[i]) last = i;
    if (last >= 0) dist[i] = i - last;
  }
  last = -1;
  for (let i = n - 1; i >= 0; i--) {
    if (keep[i]) last = i;
    if (last >= 0) dist[i] = Math.min(dist[i]!, last - i);
  }
  return dist;
}
