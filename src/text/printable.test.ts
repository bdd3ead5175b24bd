import { describe, expect, it } from "vitest";
import { hasControlCharacters, printable, terminalJson } from "./printable.js";

describe("printable", () => {
  it("writes every control character as a visible escape", () => {
    expect(printable("a\u001b[2Jb")).toBe("a\\x1b[2Jb");
    expect(printable("row\nforged\trow\r")).toBe("row\\x0aforged\\x09row\\x0d");
    expect(printable("\u009b31m\u007f")).toBe("\\x9b31m\\x7f");
    expect(printable("abc\u202etxt.exe\u2028")).toBe("abc\\u202etxt.exe\\u2028");
  });

  it("leaves ordinary text alone, accents and emoji included", () => {
    for (const s of ["work", "Café 日本語", "👩‍💻 profile", "a-b_c.d e"]) {
      expect(printable(s)).toBe(s);
      expect(hasControlCharacters(s)).toBe(false);
    }
  });

  it("finds control characters wherever they are, on every call", () => {
    expect(hasControlCharacters("\u0007")).toBe(true);
    expect(hasControlCharacters("x\u0085")).toBe(true);
    expect(hasControlCharacters("x\u2066y")).toBe(true);
    expect(hasControlCharacters("x")).toBe(false);
  });

  it("keeps JSON valid while escaping what JSON.stringify leaves raw", () => {
    const value = { name: "a\u001b]0;owned\u0007\u009b2J\u2029" };
    const text = terminalJson(value);
    expect(hasControlCharacters(text.replace(/\n/g, ""))).toBe(false);
    expect(JSON.parse(text)).toEqual(value);
  });
});
