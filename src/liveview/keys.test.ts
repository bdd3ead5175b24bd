import { describe, expect, it } from "vitest";
import { keyEventParams, MOD } from "./keys.js";
import type { KeyInput } from "./protocol.js";

/** A key message as the viewer page sends it. */
const press = (key: string, code: string, extra: Partial<KeyInput> = {}): KeyInput => ({
  type: "key",
  action: "down",
  key,
  code,
  modifiers: 0,
  repeat: false,
  ...extra,
});

describe("keyEventParams", () => {
  it("types a character: keyDown with text, the key code and the physical key", () => {
    expect(keyEventParams(press("a", "KeyA"))).toEqual({
      type: "keyDown",
      modifiers: 0,
      key: "a",
      code: "KeyA",
      windowsVirtualKeyCode: 65,
      nativeVirtualKeyCode: 65,
      text: "a",
      unmodifiedText: "a",
      autoRepeat: false,
      isKeypad: false,
      location: 0,
    });
  });

  it("releases without text", () => {
    const up = keyEventParams(press("a", "KeyA", { action: "up" }))!;
    expect(up.type).toBe("keyUp");
    expect(up).not.toHaveProperty("text");
    expect(up.windowsVirtualKeyCode).toBe(65);
  });

  it("types what Shift gives, keeping the modifier", () => {
    expect(keyEventParams(press("Q", "KeyQ", { modifiers: MOD.shift }))).toMatchObject({
      type: "keyDown",
      modifiers: MOD.shift,
      text: "Q",
      windowsVirtualKeyCode: 81,
    });
    expect(keyEventParams(press("!", "Digit1", { modifiers: MOD.shift }))).toMatchObject({
      text: "!",
      windowsVirtualKeyCode: 49,
    });
  });

  it("sends Ctrl, Alt and Meta combinations as shortcuts, which type nothing", () => {
    for (const modifiers of [MOD.ctrl, MOD.alt, MOD.meta, MOD.ctrl | MOD.shift]) {
      const p = keyEventParams(press("b", "KeyB", { modifiers }))!;
      expect(p.type, String(modifiers)).toBe("rawKeyDown");
      expect(p, String(modifiers)).not.toHaveProperty("text");
      expect(p.modifiers, String(modifiers)).toBe(modifiers);
    }
  });

  it("turns Cmd+A/C/X/Z/Y from a Mac into the Ctrl shortcuts of the Linux browser", () => {
    for (const letter of ["a", "c", "x", "z", "y"]) {
      const code = `Key${letter.toUpperCase()}`;
      expect(keyEventParams(press(letter, code, { modifiers: MOD.meta }))!.modifiers).toBe(
        MOD.ctrl,
      );
    }
    // Cmd+Shift+Z (redo) keeps Shift.
    expect(keyEventParams(press("Z", "KeyZ", { modifiers: MOD.meta | MOD.shift }))!.modifiers).toBe(
      MOD.ctrl | MOD.shift,
    );
    // Other letters, and Cmd held with Ctrl, stay as they are.
    expect(keyEventParams(press("b", "KeyB", { modifiers: MOD.meta }))!.modifiers).toBe(MOD.meta);
    const both = MOD.meta | MOD.ctrl;
    expect(keyEventParams(press("a", "KeyA", { modifiers: both }))!.modifiers).toBe(both);
  });

  it("gives named keys their key codes; Enter also types a carriage return", () => {
    expect(keyEventParams(press("Enter", "Enter"))).toMatchObject({
      type: "keyDown",
      windowsVirtualKeyCode: 13,
      text: "\r",
    });
    const named: [string, number][] = [
      ["Backspace", 8],
      ["Tab", 9],
      ["Escape", 27],
      ["Delete", 46],
      ["Home", 36],
      ["End", 35],
      ["PageDown", 34],
      ["ArrowLeft", 37],
      ["ArrowUp", 38],
      ["ArrowRight", 39],
      ["ArrowDown", 40],
      ["F1", 112],
      ["F12", 123],
    ];
    for (const [key, vk] of named) {
      const p = keyEventParams(press(key, key))!;
      expect(p, key).toMatchObject({ type: "rawKeyDown", windowsVirtualKeyCode: vk, code: key });
      expect(p, key).not.toHaveProperty("text");
    }
  });

  it("takes punctuation key codes from the physical key, or from the character without one", () => {
    expect(keyEventParams(press(",", "Comma"))!.windowsVirtualKeyCode).toBe(188);
    expect(
      keyEventParams(press("<", "Comma", { modifiers: MOD.shift }))!.windowsVirtualKeyCode,
    ).toBe(188);
    expect(keyEventParams(press("-", "Minus"))!.windowsVirtualKeyCode).toBe(189);
    expect(keyEventParams(press("/", ""))!.windowsVirtualKeyCode).toBe(191);
    expect(keyEventParams(press('"', ""))!.windowsVirtualKeyCode).toBe(222);
    expect(keyEventParams(press(" ", "Space"))).toMatchObject({
      windowsVirtualKeyCode: 32,
      text: " ",
    });
  });

  it("fills in the physical key when the viewer sent none", () => {
    expect(keyEventParams(press("k", ""))).toMatchObject({
      code: "KeyK",
      windowsVirtualKeyCode: 75,
    });
    expect(keyEventParams(press("5", ""))).toMatchObject({
      code: "Digit5",
      windowsVirtualKeyCode: 53,
    });
    expect(keyEventParams(press(" ", ""))!.code).toBe("Space");
    expect(keyEventParams(press("Shift", ""))!.code).toBe("ShiftLeft");
    expect(keyEventParams(press("Escape", ""))!.code).toBe("Escape");
  });

  it("tells left from right modifiers and marks the number pad", () => {
    expect(keyEventParams(press("Shift", "ShiftLeft"))).toMatchObject({
      windowsVirtualKeyCode: 16,
      location: 1,
    });
    expect(keyEventParams(press("Control", "ControlRight"))).toMatchObject({
      windowsVirtualKeyCode: 17,
      location: 2,
    });
    expect(keyEventParams(press("7", "Numpad7"))).toMatchObject({
      isKeypad: true,
      location: 3,
      text: "7",
    });
  });

  it("types characters beyond ASCII, and passes key repeat on", () => {
    expect(keyEventParams(press("é", ""))).toMatchObject({ type: "keyDown", text: "é" });
    expect(keyEventParams(press("😀", ""))).toMatchObject({ text: "😀" });
    expect(keyEventParams(press("a", "KeyA", { repeat: true }))!.autoRepeat).toBe(true);
  });

  it("ignores dead keys, composition and unidentified keys", () => {
    for (const key of ["Dead", "Unidentified", "Process", "Compose", "ab"]) {
      expect(keyEventParams(press(key, "")), key).toBeUndefined();
    }
  });
});
