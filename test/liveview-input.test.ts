import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { FixtureSite } from "./helpers/fixture-site.js";
import {
  openViewer,
  startLiveViewRig,
  type LiveViewRig,
  viewerPointFor,
  waitForColour,
  type SessionBrowser,
} from "./helpers/liveview.js";

let rig: LiveViewRig;
let site: FixtureSite;
let session: SessionBrowser;
let viewers: Browser;
let viewer: Page;
let controlUrl: string;

beforeAll(async () => {
  rig = await startLiveViewRig("/form");
  ({ site, session, viewers } = rig);
  controlUrl = session.urls.interactiveLiveViewUrl;
  viewer = await openViewer(viewers, controlUrl, { width: 800, height: 560 });
});

afterAll(() => rig?.close());

const value = (selector: string) => session.page.inputValue(selector);
const poll = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 10_000 });

async function clickInViewer(selector: string): Promise<void> {
  const p = await viewerPointFor(session.page, viewer, selector);
  await viewer.mouse.click(p.x, p.y);
}

test("typing, editing keys and shortcuts reach the focused field", async () => {
  await clickInViewer("#user");
  await poll(() => session.page.evaluate(() => document.activeElement?.id)).toBe("user");

  await viewer.keyboard.type("hello World 1!");
  await poll(() => value("#user")).toBe("hello World 1!");

  await viewer.keyboard.press("Backspace");
  await viewer.keyboard.press("Backspace");
  await poll(() => value("#user")).toBe("hello World ");

  await viewer.keyboard.press("ArrowLeft");
  await viewer.keyboard.press("ArrowLeft");
  await viewer.keyboard.type("X");
  await poll(() => value("#user")).toBe("hello WorlXd ");

  await viewer.keyboard.press("Control+A");
  await viewer.keyboard.type("ann");
  await poll(() => value("#user")).toBe("ann");

  // Cmd+A from a Mac viewer selects all too (the session's browser runs on Linux).
  await viewer.keyboard.press("Meta+A");
  await viewer.keyboard.type("bob");
  await poll(() => value("#user")).toBe("bob");

  await viewer.keyboard.press("Tab");
  await poll(() => session.page.evaluate(() => document.activeElement?.id)).toBe("pass");
  await viewer.keyboard.type("s3cret");
  await poll(() => value("#pass")).toBe("s3cret");
});

test("inside an iframe, the view takes the keyboard only once clicked", async () => {
  await session.page.goto(site.url + "/form");
  const host = await viewers.newPage({ viewport: { width: 900, height: 700 } });
  await host.setContent(
    `<input id="own" autofocus><iframe id="lv" src="${controlUrl}" width="100%" height="600"></iframe>`,
  );
  await host.focus("#own");
  const frame = (await (await host.$("#lv"))!.contentFrame())!;
  await frame.waitForFunction(() => Number(document.body.dataset.frames ?? 0) > 0);
  await host.keyboard.type("mine");
  expect(await host.inputValue("#own")).toBe("mine");

  const offset = (await host.locator("#lv").boundingBox())!;
  const framePage = { evaluate: frame.evaluate.bind(frame) } as unknown as Page;
  const p = await viewerPointFor(session.page, framePage, "#user");
  await host.mouse.click(offset.x + p.x, offset.y + p.y);
  await host.keyboard.type("typed in frame");
  await poll(() => value("#user")).toBe("typed in frame");
  expect(await host.inputValue("#own")).toBe("mine");
  await host.close();
});

test("key events carry the key, code, key code and modifiers a page expects", async () => {
  await session.page.evaluate(() => {
    (window as any).__keys = [];
    window.addEventListener("keydown", (e) =>
      (window as any).__keys.push([e.key, e.code, e.keyCode, e.ctrlKey, e.shiftKey]),
    );
  });
  await clickInViewer("#user");
  for (const key of ["Escape", "ArrowDown", "Shift+KeyQ", "Control+KeyC", "Digit7", "Comma"]) {
    await viewer.keyboard.press(key);
  }
  await poll(() => session.page.evaluate(() => (window as any).__keys.length)).toBeGreaterThan(7);
  const keys: unknown[] = await session.page.evaluate(() => (window as any).__keys);
  expect(keys).toContainEqual(["Escape", "Escape", 27, false, false]);
  expect(keys).toContainEqual(["ArrowDown", "ArrowDown", 40, false, false]);
  expect(keys).toContainEqual(["Q", "KeyQ", 81, false, true]);
  expect(keys).toContainEqual(["c", "KeyC", 67, true, false]);
  expect(keys).toContainEqual(["7", "Digit7", 55, false, false]);
  expect(keys).toContainEqual([",", "Comma", 188, false, false]);
});

test("pasting in the viewer inserts the text into the session's field", async () => {
  await session.page.fill("#user", "");
  await clickInViewer("#user");
  await viewer.evaluate(() => {
    const data = new DataTransfer();
    data.setData("text/plain", "pasted ✓ text");
    window.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data }));
  });
  await poll(() => value("#user")).toBe("pasted ✓ text");
});

test("Enter submits the form and the viewer follows the navigation", async () => {
  await clickInViewer("#pass");
  await viewer.keyboard.press("Enter");
  // The fixture logs the form in and redirects to /account.
  await poll(async () => session.page.url()).toBe(site.url + "/account");
  await poll(() => viewer.evaluate(() => document.body.dataset.url)).toBe(site.url + "/account");
  await poll(() => viewer.title()).toContain("Account");
});

test("double-click, right-click and the wheel work through the viewer", async () => {
  await session.page.setContent(`<body style="margin:0;height:5000px">
    <div id="target" style="position:absolute;left:100px;top:100px;width:200px;height:80px;background:#ccc"
      ondblclick="this.dataset.dbl='yes'" oncontextmenu="this.dataset.ctx='yes';return false">target</div>
  </body>`);
  // The viewer shows the new content: the target's grey where the target is.
  const vp = await session.page.evaluate(() => [window.innerWidth, window.innerHeight]);
  await waitForColour(viewer, 200 / vp[0]!, 140 / vp[1]!, [204, 204, 204]);
  const p = await viewerPointFor(session.page, viewer, "#target");
  await viewer.mouse.dblclick(p.x, p.y);
  await poll(() => session.page.getAttribute("#target", "data-dbl")).toBe("yes");
  await viewer.mouse.click(p.x, p.y, { button: "right" });
  await poll(() => session.page.getAttribute("#target", "data-ctx")).toBe("yes");

  expect(await session.page.evaluate(() => window.scrollY)).toBe(0);
  await viewer.mouse.move(p.x, p.y + 100);
  await viewer.mouse.wheel(0, 400);
  await poll(() => session.page.evaluate(() => window.scrollY)).toBeGreaterThan(100);
});
