import { expect, test } from "vitest";
import { bearerKey } from "./keys.js";
import { sessionCredits } from "./rates.js";

test("browser time: per second at 2 or 7 credits/min, at least a minute, rounded up", () => {
  expect(sessionCredits(0, false)).toBe(2);
  expect(sessionCredits(59_000, false)).toBe(2);
  expect(sessionCredits(60_000, false)).toBe(2);
  expect(sessionCredits(60_001, false)).toBe(3); // 61 s: 2.03 credits
  expect(sessionCredits(90_000, false)).toBe(3);
  expect(sessionCredits(600_000, false)).toBe(20);
  expect(sessionCredits(30_000, true)).toBe(7);
  expect(sessionCredits(61_000, true)).toBe(8); // 7.12 credits
  expect(sessionCredits(600_000, true)).toBe(70);
});

test("the key is read from 'Authorization: Bearer <key>' only", () => {
  expect(bearerKey("Bearer fc-abc")).toBe("fc-abc");
  expect(bearerKey("bearer   fc-abc ")).toBe("fc-abc");
  expect(bearerKey(undefined)).toBeUndefined();
  expect(bearerKey("fc-abc")).toBeUndefined();
  expect(bearerKey("Basic fc-abc")).toBeUndefined();
  expect(bearerKey("Bearer a b")).toBeUndefined();
});
