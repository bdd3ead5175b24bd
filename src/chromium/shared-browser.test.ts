import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { ChromiumNotFoundError } from "./find-chromium.js";
import type { BrowserLauncher, LaunchedBrowser } from "./launcher.js";
import { SharedBrowser } from "./shared-browser.js";

/** A launcher whose launches fail with the given errors, then succeed. */
function launcher(failures: Error[]) {
  let launches = 0;
  const fake = {
    get launches() {
      return launches;
    },
    launch: async (): Promise<LaunchedBrowser> => {
      launches++;
      const err = failures.shift();
      if (err) throw err;
      const browser = Object.assign(new EventEmitter(), { id: launches });
      return { browser, proc: { kill: async () => {} } } as unknown as LaunchedBrowser;
    },
  };
  return fake;
}

describe("the shared scrape browser", () => {
  it("starts again once when a start fails, and the waiting scrape gets the browser", async () => {
    const l = launcher([new Error("Chromium did not start within 15000 ms")]);
    const warnings: string[] = [];
    const shared = new SharedBrowser(l as unknown as BrowserLauncher, {
      warn: (_o, m) => warnings.push(m),
    });
    await expect(shared.get()).resolves.toMatchObject({ id: 2 });
    expect(l.launches).toBe(2);
    expect(warnings).toHaveLength(1);
  });

  it("gives up after the second failed start, and tries afresh on the next call", async () => {
    const l = launcher([new Error("first"), new Error("second")]);
    const shared = new SharedBrowser(l as unknown as BrowserLauncher);
    await expect(shared.get()).rejects.toThrow("second");
    await expect(shared.get()).resolves.toMatchObject({ id: 3 });
  });

  it("does not retry when there is no Chromium at all", async () => {
    const l = launcher([new ChromiumNotFoundError("no Chromium here")]);
    const shared = new SharedBrowser(l as unknown as BrowserLauncher);
    await expect(shared.get()).rejects.toThrow("no Chromium here");
    expect(l.launches).toBe(1);
  });
});
