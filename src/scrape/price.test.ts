import { describe, expect, it } from "vitest";
import { AppError } from "../errors/app-error.js";
import { isServerFault, serverFault } from "./fault.js";
import { ScrapeMeter, slotCredits } from "./price.js";

/** A meter on a clock the test moves. */
function meter(timeoutMs: number) {
  let t = 1_000_000;
  const m = new ScrapeMeter(timeoutMs, () => t);
  return { m, pass: (ms: number) => void (t += ms) };
}

const timeout = () => new AppError("SCRAPE_TIMEOUT", "Scrape of x timed out.");

describe("slotCredits", () => {
  it("is 1 credit per started minute, at least 1", () => {
    expect([0, 1, 30_000, 60_000, 60_001, 120_000, 120_001, 300_000].map(slotCredits)).toEqual([
      1, 1, 1, 1, 2, 2, 3, 5,
    ]);
  });
});

describe("ScrapeMeter", () => {
  it("holds the most the scrape's timeout allows: 1 for the default 30 s, 5 for the longest", () => {
    expect(new ScrapeMeter(30_000).held).toBe(1);
    expect(new ScrapeMeter(60_000).held).toBe(1);
    expect(new ScrapeMeter(90_000).held).toBe(2);
    expect(new ScrapeMeter(300_000).held).toBe(5);
  });

  it("a scrape that returned its document pays for the slot time it held, the rest comes back", () => {
    const { m, pass } = meter(300_000);
    pass(20_000); // waiting for a slot costs nothing
    m.slotTaken();
    pass(61_000);
    m.slotReleased();
    pass(100_000); // nor does what follows
    expect(m.price()).toBe(2);
    expect(m.settle(false)).toMatchObject({ held: 5, price: 2, refund: 3, failed: false });
  });

  it("a cache hit took no slot and costs 1", () => {
    const { m } = meter(120_000);
    expect(m.settle(false)).toMatchObject({ held: 2, price: 1, refund: 1 });
  });

  it("a failure at the target after holding a slot is paid like a success", () => {
    const { m, pass } = meter(300_000);
    m.slotTaken();
    pass(299_000);
    m.slotReleased();
    const s = m.settle(true, timeout());
    expect(s).toMatchObject({ held: 5, price: 5, refund: 0, failed: true });
    expect(s.note).toMatch(/SCRAPE_TIMEOUT.*at the target.*5 kept/);
    for (const code of ["SCRAPE_CONNECTION_FAILED", "SCRAPE_DNS_RESOLUTION_ERROR"] as const) {
      expect(m.settle(true, new AppError(code, "x")).price).toBe(5);
    }
  });

  it("a failure before taking a slot, or of the server's own, is refunded whole", () => {
    const { m: waiting } = meter(60_000);
    expect(waiting.settle(true, timeout())).toMatchObject({ price: 0, refund: 1 });
    expect(waiting.settle(true, timeout()).note).toMatch(/before taking a scrape slot/);

    const { m, pass } = meter(60_000);
    m.slotTaken();
    pass(10_000);
    m.slotReleased();
    for (const err of [
      new AppError("BROWSER_UNAVAILABLE", "x"),
      new AppError("SHUTTING_DOWN", "x"),
      new AppError("DISK_FULL", "x"),
      new Error("ENOSPC: no space left on device"),
      serverFault(new AppError("SCRAPE_FAILED", "The browser failed while scraping x.")),
    ]) {
      expect(m.settle(true, err)).toMatchObject({ price: 0, refund: 1, failed: true });
      expect(m.settle(true, err).note).toMatch(/server's own/);
    }
  });

  it("never keeps more than it held, even when closing the page ran past the timeout", () => {
    const { m, pass } = meter(60_000);
    m.slotTaken();
    pass(60_500);
    m.slotReleased();
    expect(m.settle(true, timeout())).toMatchObject({ held: 1, price: 1, refund: 0 });
  });
});

describe("isServerFault", () => {
  it("reads the code, unless the error was marked as the server's", () => {
    expect(isServerFault(new AppError("SCRAPE_FAILED", "x"))).toBe(false);
    expect(isServerFault(serverFault(new AppError("SCRAPE_FAILED", "x")))).toBe(true);
    expect(isServerFault(new AppError("INTERNAL", "x"))).toBe(true);
    expect(isServerFault(new TypeError("x is undefined"))).toBe(true);
  });
});
