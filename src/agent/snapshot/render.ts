import type { Ref } from "./refs.js";

/** A node of Playwright's `ariaSnapshotJSON({ mode: "ai", boxes: true })`. */
export interface AriaNode {
  role: string;
  name?: string;
  ref?: string;
  text?: string;
  url?: string;
  cursor?: string;
  level?: number;
  checked?: boolean | "mixed";
  disabled?: boolean;
  expanded?: boolean;
  pressed?: boolean | "mixed";
  selected?: boolean;
  invalid?: boolean | string;
  props?: Record<string, string>;
  box?: { x: number; y: number; width: number; height: number };
  children?: (AriaNode | string)[];
}

/** Text a collapsed control (closed `<details>`, `aria-expanded="false"`, an inactive tab) hides. */
export interface CollapsedHint {
  /** The control's visible name, whitespace-normalised. */
  name: string;
  text: string;
}

export type LineKind = "ref" | "heading" | "text" | "struct";

/** One line of the model's view of the page. */
export interface Line {
  text: string;
  depth: number;
  kind: LineKind;
  /** Index of the enclosing line, or -1. */
  parent: number;
  /** 0 when on screen, else how many viewport heights away. */
  distance: number;
}

export interface RenderOptions {
  /** Our ref for an element; called only for elements that show one. */
  refFor: (pw: string, role: string, name: string) => Ref;
  viewportHeight: number;
  hints?: CollapsedHint[];
  /** Longest text on one line; longer text is cut and shows a ref to `read` it whole. */
  maxLineChars?: number;
}

/** Roles a user acts on: these always carry a ref. */
const INTERACTIVE = new Set([
  "button",
  "link",
  "textbox",
  "searchbox",
  "checkbox",
  "radio",
  "combobox",
  "listbox",
  "menuitem",
  "menuitemcheckbox",
  "menuitemradio",
  "tab",
  "switch",
  "slider",
  "spinbutton",
  "treeitem",
  "option",
]);
/** Containers whose name gives context; shown as a line of their own. */
const LANDMARKS = new Set([
  "dialog",
  "alertdialog",
  "alert",
  "navigation",
  "main",
  "banner",
  "contentinfo",
  "form",
  "region",
  "complementary",
  "search",
  "table",
  "tabpanel",
  "menu",
  "tablist",
  "status",
]);
/** Roles whose text is all that matters: shown as plain text. */
const PLAIN = new Set([
  "generic",
  "none",
  "presentation",
  "paragraph",
  "text",
  "listitem",
  "list",
  "group",
  "cell",
  "gridcell",
  "rowgroup",
  "strong",
  "emphasis",
  "code",
  "blockquote",
  "article",
  "section",
  "definition",
  "term",
  "caption",
  "figure",
  "insertion",
  "deletion",
  "subscript",
  "superscript",
  "time",
  "mark",
  "log",
  "note",
  "document",
]);

const DEFAULT_MAX_LINE = 300;

/** Whitespace collapsed, as the snapshot and hints compare names. */
export function normalize(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

/**
 * Turns Playwright's AI snapshot into the compact lines the model reads: every element one can
 * act on with a ref, headings, landmarks, and all text (long text cut, with a ref to read it);
 * plain wrappers are dropped and table rows and small list items become one line.
 */
export function renderSnapshot(roots: (AriaNode | string)[], opts: RenderOptions): Line[] {
  const lines: Line[] = [];
  const maxLine = opts.maxLineChars ?? DEFAULT_MAX_LINE;
  const vh = Math.max(1, opts.viewportHeight);
  const hints = new Map((opts.hints ?? []).map((h) => [h.name.toLowerCase(), h.text]));

  const distanceOf = (box: AriaNode["box"], inherited: number): number => {
    if (!box) return inherited;
    if (box.y + box.height >= 0 && box.y <= vh) return 0;
    return box.y < 0 ? Math.ceil(-(box.y + box.height) / vh) : Math.ceil((box.y - vh) / vh);
  };

  const add = (text: string, depth: number, kind: LineKind, parent: number, distance: number) => {
    lines.push({ text: `${"  ".repeat(depth)}- ${text}`, depth, kind, parent, distance });
    return lines.length - 1;
  };

  const cap = (text: string, node: AriaNode | undefined): string => {
    const t = normalize(text);
    if (t.length <= maxLine) return t;
    const ref = node?.ref ? ` [ref=${opts.refFor(node.ref, node.role, node.name ?? "")}]` : "";
    return `${t.slice(0, maxLine)}… (+${t.length - maxLine} chars${ref ? "; read" + ref : ""})`;
  };

  const label = (node: AriaNode): string => {
    const parts = [node.role === "generic" ? "clickable" : node.role];
    if (node.name) parts.push(JSON.stringify(cap(node.name, undefined)));
    for (const flag of ["checked", "disabled", "expanded", "pressed", "selected"] as const) {
      const v = node[flag];
      if (v === true) parts.push(`[${flag}]`);
      else if (v === "mixed") parts.push(`[${flag}=mixed]`);
      else if (v === false && (flag === "expanded" || flag === "pressed"))
        parts.push(`[${flag}=false]`);
    }
    if (node.level) parts.push(`[level=${node.level}]`);
    if (node.invalid) parts.push("[invalid]");
    if (node.props?.placeholder)
      parts.push(`[placeholder=${JSON.stringify(node.props.placeholder)}]`);
    if (node.ref && actionable(node)) {
      parts.push(`[ref=${opts.refFor(node.ref, node.role, node.name ?? "")}]`);
    }
    if (node.url && !node.url.startsWith("javascript:")) parts.push(`→ ${node.url.slice(0, 100)}`);
    return parts.join(" ");
  };

  const actionable = (n: AriaNode) =>
    !!n.ref &&
    (INTERACTIVE.has(n.role) || n.cursor === "pointer" || (n.role === "generic" && !!n.name));

  /** One line for a small subtree (a row's cells, a list item, a paragraph), or undefined. */
  const inline = (node: AriaNode): string | undefined => {
    const piece = (n: AriaNode | string, depth: number): string | undefined => {
      if (typeof n === "string") return normalize(n);
      const kids = n.children ?? [];
      if (actionable(n)) {
        if (kids.some((c) => typeof c !== "string")) return undefined;
        return label(n) + (n.text ? `: ${normalize(n.text)}` : "");
      }
      if (!kids.length) return normalize(n.text ?? n.name ?? "");
      if (depth > 2) return undefined;
      const parts: string[] = n.text ? [normalize(n.text)] : [];
      for (const c of kids) {
        const p = piece(c, depth + 1);
        if (p === undefined) return undefined;
        parts.push(p);
      }
      return parts.filter(Boolean).join(n.role === "row" ? " | " : " ");
    };
    const text = piece(node, 0);
    return text !== undefined && text.length <= maxLine ? text : undefined;
  };

  const INLINE = new Set([
    "row",
    "listitem",
    "paragraph",
    "cell",
    "gridcell",
    "term",
    "definition",
  ]);

  const visit = (node: AriaNode | string, depth: number, parent: number, distance: number) => {
    if (typeof node === "string") {
      const t = normalize(node);
      if (t) add(cap(t, undefined), depth, "text", parent, distance);
      return;
    }
    const d = distanceOf(node.box, distance);
    const kids = node.children ?? [];
    if (node.role === "heading") {
      const own = add(label(node), depth, "heading", parent, d);
      // A heading's text is its name; a link in it is still something to click.
      kids.forEach((c) => typeof c !== "string" && visit(c, depth + 1, own, d));
      return;
    }
    if (actionable(node)) {
      const text = node.text ? `: ${cap(node.text, node)}` : "";
      const own = add(label(node) + text, depth, "ref", parent, d);
      const hint = node.name ? hints.get(normalize(node.name).toLowerCase()) : undefined;
      if (hint && node.expanded !== true) {
        add(`(collapsed) ${cap(hint, undefined)}`, depth + 1, "text", own, d);
      }
      if (node.role === "combobox" || node.role === "listbox") {
        const options = kids
          .filter((c): c is AriaNode => typeof c !== "string" && c.role === "option")
          .map((o) => (o.selected ? `${o.name ?? ""} (selected)` : (o.name ?? "")));
        if (options.length)
          add(`options: ${cap(options.join(" | "), undefined)}`, depth + 1, "text", own, d);
        return;
      }
      // A link's or button's text child repeats its name.
      const name = normalize(node.name ?? "");
      for (const c of kids) {
        if (typeof c !== "string" || normalize(c) !== name) visit(c, depth + 1, own, d);
      }
      return;
    }
    const mixed = PLAIN.has(node.role) && kids.some((c) => typeof c === "string");
    if (kids.length && (INLINE.has(node.role) || mixed)) {
      const one = inline(node);
      if (one !== undefined) {
        if (one) add(one, depth, /\[ref=e\d+\]/.test(one) ? "ref" : "text", parent, d);
        return;
      }
    }
    if (LANDMARKS.has(node.role) || node.role === "iframe") {
      const own = add(label({ ...node, url: undefined }), depth, "struct", parent, d);
      kids.forEach((c) => visit(c, depth + 1, own, d));
      return;
    }
    // A plain wrapper: its own text or name, then its children at the same depth.
    const own = node.text ?? node.name;
    if (own) {
      const prefix = PLAIN.has(node.role) ? "" : `${node.role} `;
      add(
        prefix + (node.text ? cap(node.text, node) : JSON.stringify(cap(own, node))),
        depth,
        "text",
        parent,
        d,
      );
    }
    kids.forEach((c) => visit(c, depth, parent, d));
  };

  roots.forEach((r) => visit(r, 0, -1, 0));
  return lines;
}
