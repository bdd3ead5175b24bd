/* global setImmediate */
// The runner's way to its browser. Inside the sandbox there is no network, only a unix socket
// that the server serves as a CDP connection to this session's browser (and no other).
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { installCodeCache } from "./code-cache.mjs";

const require = createRequire(import.meta.url);
// Staged by the server beside this file once it has made it; absent in place (SANDBOX=none).
installCodeCache(fileURLToPath(new URL("./code-cache/", import.meta.url)), "use");
const CONNECT_TIMEOUT_MS = 15_000;
const ATTACH_LOAD_TIMEOUT_MS = 4_000;
/**
 * How long binding waits for a tab the server opened to reach this connection before opening
 * one of its own: the worker connects early, and a tab opened after that arrives on its own time.
 */
const TAB_WAIT_MS = 2_000;

/** Connects lazily, reconnects after the browser went away, and picks the page user code sees. */
export class BrowserLink {
  /** @param {string} socketPath */
  constructor(socketPath) {
    this.socketPath = socketPath;
    /** @type {import("playwright-core").Browser | undefined} */
    this.browser = undefined;
    /** @type {Promise<import("playwright-core").Browser> | undefined} */
    this.connecting = undefined;
    // Loading Playwright takes a while; start right after the runner says it is ready, so a
    // warm-up only has to connect. `require`, not `import()`: importing CommonJS from ESM first
    // scans the whole module for its export names, which costs more than half as much again.
    this.playwright = new Promise((resolve, reject) =>
      setImmediate(() => {
        try {
          resolve(require("playwright-core"));
        } catch (err) {
          reject(err);
        }
      }),
    );
    // Then connect: a session taken from the warm pool finds its worker connected.
    this.playwright.then(() => this.connect()).catch(() => {});
  }

  /** The connected browser, connecting first when needed. */
  async connect() {
    if (this.browser?.isConnected()) return this.browser;
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  async open() {
    const { chromium } = await this.playwright;
    const browser = await chromium.connectOverCDP(`ws+unix://${this.socketPath}:/`, {
      timeout: CONNECT_TIMEOUT_MS,
    });
    this.browser = browser;
    return browser;
  }

  /**
   * Connects and binds `page` to the current tab, then waits (briefly) for it to finish loading,
   * so the first run sees the page a restore just navigated.
   * @param {{ page?: unknown }} globals
   */
  async attach(globals) {
    const bound = await this.bind(globals);
    Object.assign(globals, bound);
    await bound.page.waitForLoadState("load", { timeout: ATTACH_LOAD_TIMEOUT_MS }).catch(() => {});
  }

  /**
   * The globals for one run. `page` stays what the last run left it (the user may have assigned
   * their own) unless it was closed; then it is the newest open tab of the session's default
   * context, or a new tab when none is left.
   * @param {{ page?: unknown }} globals
   */
  async bind(globals) {
    const browser = await this.connect();
    const context = browser.contexts()[0] ?? (await browser.newContext());
    let page = /** @type {any} */ (globals.page);
    const usable =
      page && typeof page.isClosed === "function" && !page.isClosed() && isOf(page, browser);
    if (!usable) {
      const open = () => context.pages().filter((p) => !p.isClosed());
      if (open().length === 0) {
        await context.waitForEvent("page", { timeout: TAB_WAIT_MS }).catch(() => {});
      }
      page = open().at(-1) ?? (await context.newPage());
    }
    return { browser, context, page };
  }
}

/** After a reconnect the old Page objects belong to a dead connection. */
function isOf(page, browser) {
  try {
    return page.context().browser() === browser;
  } catch {
    return false;
  }
}
