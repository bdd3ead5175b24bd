/**
 * Characters that steer a terminal or the layout of a line rather than print: C0 and C1 controls
 * (ESC starts escape sequences, U+009B is an 8-bit CSI), DEL, the line and paragraph separators,
 * and the bidirectional overrides that can make a row read as something else.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** True when a string holds any character that is not plain printable text. */
export function hasControlCharacters(text: string): boolean {
  CONTROL.lastIndex = 0;
  return CONTROL.test(text);
}

/** The string with every control character removed. */
export function withoutControlCharacters(text: string): string {
  return text.replace(CONTROL, "");
}

/** The string with every control character written as a visible escape (`\x1b`, `\u202e`). */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/**
 * JSON for a terminal: JSON.stringify already escapes C0 controls inside strings, but not DEL,
 * C1 controls, separators or bidi overrides; those become \u escapes too (still valid JSON).
 */
export function terminalJson(value: unknown): string {
  // The only raw C0 character left is the layout's own line break, outside every string.
  return JSON.stringify(value, null, 2).replace(CONTROL, (c) =>
    c === "\n" ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
