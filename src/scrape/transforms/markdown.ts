import TurndownService from "turndown";

/** What replaces a data: image URI when removeBase64Images is on (Firecrawl's wording). */
export const BASE64_PLACEHOLDER = "<Base64-Image-Removed>";

const cellText = (content: string) => content.replace(/\n+/g, " ").replace(/\|/g, "\\|").trim();

function isFirstRow(row: Node): boolean {
  const table = (row as Element).closest("table");
  return table !== null && table.querySelector("tr") === row;
}

/** One converter for the whole process: building one sets up its rules, converting is stateless. */
const turndown = new TurndownService({
  headingStyle: "atx",
  codeBlockStyle: "fenced",
  bulletListMarker: "-",
  hr: "---",
});
turndown.remove(["script", "style", "noscript", "template", "iframe", "head"]);
// GitHub-style tables, which turndown lacks: the first row is the header.
turndown.addRule("tableCell", {
  filter: ["th", "td"],
  replacement: (content) => ` ${cellText(content)} |`,
});
turndown.addRule("tableRow", {
  filter: "tr",
  replacement: (content, node) => {
    const cells = (node as Element).querySelectorAll("th, td").length;
    const row = `|${content}\n`;
    return isFirstRow(node) ? row + `|${" --- |".repeat(Math.max(1, cells))}\n` : row;
  },
});
turndown.addRule("tableSection", {
  filter: ["thead", "tbody", "tfoot"],
  replacement: (content) => content,
});
// "- item" rather than turndown's "-   item", as Firecrawl writes lists.
turndown.addRule("listItem", {
  filter: "li",
  replacement: (content, node, options) => {
    const parent = node.parentNode as Element | null;
    let prefix = `${options.bulletListMarker} `;
    if (parent?.nodeName === "OL") {
      const start = Number(parent.getAttribute("start") ?? 1) || 1;
      prefix = `${start + Array.prototype.indexOf.call(parent.children, node)}. `;
    }
    const body = content
      .replace(/^\n+/, "")
      .replace(/\n+$/, "\n")
      .replace(/\n(?!$)/g, "\n  ");
    return prefix + body.replace(/\n$/, "") + (node.nextSibling ? "\n" : "");
  },
});
turndown.addRule("table", {
  filter: "table",
  replacement: (content) => `\n\n${content.replace(/\n+/g, "\n").trim()}\n\n`,
});

/** Markdown for cleaned HTML. */
export function toMarkdown(html: string, removeBase64Images: boolean): string {
  let md = turndown.turndown(html);
  if (removeBase64Images) {
    // The cleaned HTML already carries the placeholder, which turndown escapes as a URL.
    md = md
      .replaceAll("(\\<Base64-Image-Removed\\>)", `(${BASE64_PLACEHOLDER})`)
      .replace(/(!\[[^\]]*\])\(data:image\/[^)]*\)/g, `$1(${BASE64_PLACEHOLDER})`);
  }
  return md.replace(/^[ \t]+$/gm, "").trim();
}
