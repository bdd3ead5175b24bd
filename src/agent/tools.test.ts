import { expect, test } from "vitest";
import { fitToBudget } from "./snapshot/budget.js";
import { parseRef, RefTable } from "./snapshot/refs.js";
import type { Line } from "./snapshot/render.js";
import { callFromText, normalizeCall } from "./tools.js";

test("refs are read however a model writes them", () => {
  for (const written of ["e12", "@e12", "[ref=e12]", "ref=e12", "12", 12, " E12 "]) {
    expect(parseRef(written)).toBe("e12");
  }
  for (const bad of ["button", "e", "", -3, 1.5, null, "#submit"])
    expect(parseRef(bad)).toBeUndefined();
});

test("a ref names one element for the whole run; a new document retires the old ones", () => {
  const refs = new RefTable();
  refs.begin("doc1");
  const send = refs.refFor("e7", "button", "Send");
  refs.commit();
  refs.begin("doc1");
  expect(refs.refFor("e7", "button", "Send")).toBe(send);
  // Same Playwright ref, different element: a new ref of ours.
  const other = refs.refFor("e8", "link", "Help");
  refs.commit();
  refs.begin("doc2");
  const again = refs.refFor("e7", "button", "Send");
  refs.commit();
  expect(new Set([send, other, again]).size).toBe(3);
  expect(refs.resolve(send)).toMatchObject({ ok: false, reason: "stale" });
  expect(refs.resolve(again)).toMatchObject({ ok: true, pw: "e7", role: "button" });
  expect(refs.resolve("e999")).toMatchObject({ ok: false, reason: "unknown" });
});

test("tool calls from small models: aliases, broken JSON, other argument names", () => {
  expect(normalizeCall("type", `{ref: '@e3', text: 'Bo'`)).toEqual({
    tool: "fill",
    ref: "e3",
    text: "Bo",
    submit: false,
  });
  expect(normalizeCall("click_element", { element: 4 })).toEqual({ tool: "click", ref: "e4" });
  expect(normalizeCall("Go To", '{"href": "/next"}')).toEqual({ tool: "navigate", url: "/next" });
  expect(normalizeCall("select_option", { ref: "e2", value: "Large" })).toEqual({
    tool: "select",
    ref: "e2",
    options: ["Large"],
  });
  expect(normalizeCall("final_answer", { text: "42", success: "false" })).toEqual({
    tool: "done",
    answer: "42",
    success: false,
  });
  expect(normalizeCall("click", {})).toMatch(/needs a ref/);
  expect(normalizeCall("click", { ref: "the blue button" })).toMatch(/not a ref/);
  expect(normalizeCall("fly", {})).toMatch(/There is no tool "fly"/);
});

test("a tool call written in the reply's text is found", () => {
  expect(
    callFromText('<tool_call>{"name": "click", "arguments": {"ref": "e1"}}</tool_call>'),
  ).toEqual({
    name: "click",
    input: { ref: "e1" },
  });
  expect(
    callFromText('I will click.\n```json\n{"tool": "click", "args": {"ref": "e2"}}\n```'),
  ).toEqual({
    name: "click",
    input: { ref: "e2" },
  });
  expect(
    callFromText('{"function": {"name": "done", "arguments": "{\\"answer\\": \\"ok\\"}"}}'),
  ).toEqual({
    name: "done",
    input: '{"answer": "ok"}',
  });
  expect(callFromText("The price is $49.")).toBeUndefined();
});

test("over budget, refs and headings stay, text near them next, and the cut is said", () => {
  const lines: Line[] = [];
  const add = (text: string, kind: Line["kind"], distance = 0) =>
    lines.push({ text: `- ${text}`, depth: 0, kind, parent: -1, distance });
  add('heading "Plans" [level=1]', "heading");
  for (let i = 0; i < 50; i++) add(`filler paragraph number ${i} `.repeat(4), "text", 3);
  add("The Pro plan costs $49.", "text");
  add('button "Buy Pro" [ref=e1]', "ref");
  for (let i = 0; i < 50; i++) add(`more filler ${i} `.repeat(6), "text", 5);
  add('link "Next" [ref=e2]', "ref", 8);
  const fitted = fitToBudget(lines, 1200);
  expect(fitted.cut).toBe(true);
  expect(fitted.text.length).toBeLessThanOrEqual(1200);
  expect(fitted.text).toContain('heading "Plans"');
  expect(fitted.text).toContain('button "Buy Pro" [ref=e1]');
  expect(fitted.text).toContain('link "Next" [ref=e2]');
  expect(fitted.text).toContain("The Pro plan costs $49.");
  expect(fitted.text).toMatch(/… \d+ lines cut/);
  expect(fitted.text).toMatch(/\[Snapshot cut to about 300 tokens: .* find_text .* read/);
  expect(fitToBudget(lines.slice(0, 3), 10_000)).toMatchObject({ cut: false, shownLines: 3 });
});
