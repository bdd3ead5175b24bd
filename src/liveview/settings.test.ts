import { describe, expect, it } from "vitest";
import { combineSettings, DEFAULT_SETTINGS, parseSettings, sameSettings } from "./settings.js";

const parse = (query: string) => parseSettings(new URLSearchParams(query));

describe("parseSettings", () => {
  it("uses the defaults when the URL says nothing", () => {
    expect(parse("")).toEqual({ quality: 60, fps: 10, maxWidth: 1280 });
    expect(parse("")).toEqual(DEFAULT_SETTINGS);
  });

  it("reads quality, fps and maxWidth", () => {
    expect(parse("quality=30&fps=5&maxWidth=320")).toEqual({ quality: 30, fps: 5, maxWidth: 320 });
  });

  it("clamps values out of range to the nearest limit", () => {
    expect(parse("quality=900&fps=100&maxWidth=99999")).toEqual({
      quality: 100,
      fps: 30,
      maxWidth: 3840,
    });
    expect(parse("quality=0&fps=-4&maxWidth=5")).toEqual({ quality: 1, fps: 1, maxWidth: 160 });
  });

  it("rounds fractions", () => {
    expect(parse("quality=49.5&fps=2.4&maxWidth=640.7")).toEqual({
      quality: 50,
      fps: 2,
      maxWidth: 641,
    });
  });

  it("falls back to the default for anything that is not a number", () => {
    for (const bad of ["abc", "", "%20", "Infinity", "NaN", "12px"]) {
      expect(parse(`quality=${bad}&fps=${bad}&maxWidth=${bad}`), bad).toEqual(DEFAULT_SETTINGS);
    }
    // One bad value leaves the others alone.
    expect(parse("quality=abc&fps=3")).toEqual({ quality: 60, fps: 3, maxWidth: 1280 });
  });
});

describe("combineSettings", () => {
  it("takes the most any viewer asked for, setting by setting", () => {
    expect(
      combineSettings([
        { quality: 30, fps: 2, maxWidth: 1920 },
        { quality: 80, fps: 10, maxWidth: 320 },
        { quality: 50, fps: 30, maxWidth: 160 },
      ]),
    ).toEqual({ quality: 80, fps: 30, maxWidth: 1920 });
  });

  it("is undefined without viewers, and a copy for one", () => {
    expect(combineSettings([])).toBeUndefined();
    const one = { quality: 30, fps: 2, maxWidth: 320 };
    const combined = combineSettings(new Set([one]));
    expect(combined).toEqual(one);
    expect(combined).not.toBe(one);
  });
});

describe("sameSettings", () => {
  it("compares by value, undefined included", () => {
    expect(sameSettings({ ...DEFAULT_SETTINGS }, { ...DEFAULT_SETTINGS })).toBe(true);
    expect(sameSettings(undefined, undefined)).toBe(true);
    expect(sameSettings(DEFAULT_SETTINGS, undefined)).toBe(false);
    expect(sameSettings(DEFAULT_SETTINGS, { ...DEFAULT_SETTINGS, fps: 11 })).toBe(false);
    expect(sameSettings(DEFAULT_SETTINGS, { ...DEFAULT_SETTINGS, quality: 61 })).toBe(false);
    expect(sameSettings(DEFAULT_SETTINGS, { ...DEFAULT_SETTINGS, maxWidth: 1281 })).toBe(false);
  });
});
