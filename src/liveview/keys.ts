import type { KeyInput } from "./protocol.js";

/** Modifier bits as CDP's Input domain counts them. */
export const MOD = { alt: 1, ctrl: 2, meta: 4, shift: 8 } as const;

/** The fields of CDP `Input.dispatchKeyEvent` that a key press needs. */
export interface KeyEventParams {
  type: "keyDown" | "rawKeyDown" | "keyUp";
  modifiers: number;
  key: string;
  code: string;
  windowsVirtualKeyCode: number;
  nativeVirtualKeyCode: number;
  text?: string;
  unmodifiedText?: string;
  autoRepeat: boolean;
  isKeypad: boolean;
  location: number;
}

// Keys that are not characters. Enter is the one that also types something ("\r"), as in
// Chromium's own key definitions, which is what makes forms submit.
const NAMED: Record<string, { vk: number; text?: string }> = {
  Enter: { vk: 13, text: "\r" },
  Backspace: { vk: 8 },
  Tab: { vk: 9 },
  Escape: { vk: 27 },
  Delete: { vk: 46 },
  Insert: { vk: 45 },
  Home: { vk: 36 },
  End: { vk: 35 },
  PageUp: { vk: 33 },
  PageDown: { vk: 34 },
  ArrowLeft: { vk: 37 },
  ArrowUp: { vk: 38 },
  ArrowRight: { vk: 39 },
  ArrowDown: { vk: 40 },
  Shift: { vk: 16 },
  Control: { vk: 17 },
  Alt: { vk: 18 },
  Meta: { vk: 91 },
  CapsLock: { vk: 20 },
  ContextMenu: { vk: 93 },
  ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`F${i + 1}`, { vk: 112 + i }])),
};

// Virtual key codes of punctuation keys come from the physical key (US layout), like Chromium.
const PUNCTUATION_BY_CODE: Record<string, number> = {
  Semicolon: 186,
  Equal: 187,
  Comma: 188,
  Minus: 189,
  Period: 190,
  Slash: 191,
  Backquote: 192,
  BracketLeft: 219,
  Backslash: 220,
  BracketRight: 221,
  Quote: 222,
  IntlBackslash: 226,
};

const PUNCTUATION_BY_KEY: Record<string, number> = {
  ";": 186, ":": 186, "=": 187, "+": 187, ",": 188, "<": 188, "-": 189, "_": 189, ".": 190,
  ">": 190, "/": 191, "?": 191, "`": 192, "~": 192, "[": 219, "{": 219, "\\": 220, "|": 220,
  "]": 221, "}": 221, "'": 222, '"': 222,
}; // prettier-ignore

/** Letters that, held with Cmd on a Mac viewer, mean the Ctrl shortcut on the Linux browser. */
const SHORTCUT_LETTERS = new Set(["a", "c", "x", "z", "y"]);

/**
 * Turns a key event from the viewer's browser into CDP key event parameters. Characters carry
 * `text` (so they type) unless Ctrl, Alt or Meta is held (then they are shortcuts); Cmd+A/C/X/Z/Y
 * becomes Ctrl+... because the session's Chromium runs on Linux, where those are Ctrl shortcuts.
 */
export function keyEventParams(input: KeyInput): KeyEventParams | undefined {
  let modifiers = input.modifiers;
  const named = NAMED[input.key];
  const isChar = !named && [...input.key].length === 1;
  if (!named && !isChar) return undefined; // Dead keys, "Unidentified", IME composition names.

  const lower = input.key.toLowerCase();
  if (isChar && modifiers & MOD.meta && !(modifiers & MOD.ctrl) && SHORTCUT_LETTERS.has(lower)) {
    modifiers = (modifiers & ~MOD.meta) | MOD.ctrl;
  }
  const vk = named ? named.vk : charKeyCode(input.key, input.code);
  const shortcut = (modifiers & (MOD.ctrl | MOD.alt | MOD.meta)) !== 0;
  const text =
    input.action === "up" ? undefined : named ? named.text : shortcut ? undefined : input.key;
  const type = input.action === "up" ? "keyUp" : text ? "keyDown" : "rawKeyDown";
  return {
    type,
    modifiers,
    key: input.key,
    code: input.code || defaultCode(input.key),
    windowsVirtualKeyCode: vk,
    nativeVirtualKeyCode: vk,
    ...(text ? { text, unmodifiedText: text } : {}),
    autoRepeat: input.repeat,
    isKeypad: input.code.startsWith("Numpad"),
    location: keyLocation(input.code),
  };
}

function charKeyCode(key: string, code: string): number {
  if (/^Key[A-Z]$/.test(code) || /^Digit[0-9]$/.test(code)) return code.charCodeAt(code.length - 1);
  if (code === "Space" || key === " ") return 32;
  const byCode = PUNCTUATION_BY_CODE[code];
  if (byCode) return byCode;
  if (/^[a-z0-9]$/i.test(key)) return key.toUpperCase().charCodeAt(0);
  return PUNCTUATION_BY_KEY[key] ?? 0;
}

function defaultCode(key: string): string {
  if (["Shift", "Control", "Alt", "Meta"].includes(key)) return `${key}Left`;
  if (NAMED[key]) return key;
  if (/^[a-z]$/i.test(key)) return `Key${key.toUpperCase()}`;
  if (/^[0-9]$/.test(key)) return `Digit${key}`;
  if (key === " ") return "Space";
  return "";
}

/** DOM key location: 1 left and 2 right modifier, 3 numpad, else 0. */
function keyLocation(code: string): number {
  const side = /^(?:Shift|Control|Alt|Meta|OS)(Left|Right)$/.exec(code)?.[1];
  if (side) return side === "Left" ? 1 : 2;
  return code.startsWith("Numpad") ? 3 : 0;
}
