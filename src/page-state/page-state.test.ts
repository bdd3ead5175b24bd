import { describe, expect, it } from "vitest";
import { pageState, sessionSetup, type PageCommand, type PageSettings } from "./page-state.js";

const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 " +
  "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const DESKTOP =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " +
  "Chrome/156.0.0.0 Safari/537.36";

const desktop: PageSettings = {
  headers: {},
  viewport: { width: 1280, height: 800 },
  mobile: false,
  userAgent: DESKTOP,
  ignoreHTTPSErrors: false,
  blockAds: false,
};
const phoneInBerlin: PageSettings = {
  headers: { "X-Probe": "p1" },
  viewport: { width: 390, height: 844 },
  mobile: true,
  userAgent: IPHONE,
  locale: "de-DE",
  languages: ["de-DE", "de"],
  timezoneId: "Europe/Berlin",
  ignoreHTTPSErrors: true,
  blockAds: true,
};

const find = (commands: PageCommand[], method: string) => commands.find((c) => c.method === method);
const methods = (commands: { method: string }[]) => commands.map((c) => c.method);

describe("pageState", () => {
  it("a desktop page: device metrics and user agent, nothing else", () => {
    const s = pageState(desktop);
    expect(s.contextOptions).toEqual({
      viewport: { width: 1280, height: 800 },
      screen: { width: 1280, height: 800 },
      isMobile: false,
      hasTouch: false,
      timezoneId: undefined,
      extraHTTPHeaders: undefined,
      ignoreHTTPSErrors: false,
    });
    expect(methods(s.contextCommands)).toEqual(["Emulation.setDeviceMetricsOverride"]);
    expect(find(s.contextCommands, "Emulation.setDeviceMetricsOverride")?.params).toEqual({
      mobile: false,
      width: 1280,
      height: 800,
      screenWidth: 1280,
      screenHeight: 800,
      deviceScaleFactor: 1,
      screenOrientation: { angle: 0, type: "landscapePrimary" },
    });
    expect(s.browserCommands).toEqual([]);
    expect(s.pageCommands).toEqual([
      {
        method: "Emulation.setUserAgentOverride",
        params: {
          userAgent: DESKTOP,
          userAgentMetadata: {
            mobile: false,
            model: "",
            architecture: "x86",
            platform: "Linux",
            platformVersion: "",
            // Chromium's own brands for the UA's version: a headless build would add its own.
            brands: [
              { brand: "Not:A-Brand", version: "8" },
              { brand: "Chromium", version: "156" },
            ],
            fullVersionList: [
              { brand: "Not:A-Brand", version: "8.0.0.0" },
              { brand: "Chromium", version: "156.0.0.0" },
            ],
            fullVersion: "156.0.0.0",
          },
        },
        frames: true,
      },
    ]);
    expect(s.events).toEqual([]);
    expect(s.onEvent).toBeUndefined();
  });

  it("a phone in Berlin: every field becomes its command", () => {
    const s = pageState(phoneInBerlin);
    expect(s.contextOptions).toMatchObject({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      timezoneId: "Europe/Berlin",
      extraHTTPHeaders: { "X-Probe": "p1" },
      ignoreHTTPSErrors: true,
    });
    expect(methods(s.contextCommands)).toEqual([
      "Emulation.setDeviceMetricsOverride",
      "Emulation.setTouchEmulationEnabled",
      "Emulation.setTimezoneOverride",
      "Network.enable",
      "Network.setExtraHTTPHeaders",
    ]);
    const metrics = find(s.contextCommands, "Emulation.setDeviceMetricsOverride")!;
    expect(metrics.params).toMatchObject({
      mobile: true,
      width: 390,
      screenHeight: 844,
      screenOrientation: { angle: 0, type: "portraitPrimary" },
    });
    expect(find(s.contextCommands, "Emulation.setTimezoneOverride")).toMatchObject({
      params: { timezoneId: "Europe/Berlin" },
      alreadySet: "Timezone override is already in effect",
    });
    expect(find(s.contextCommands, "Network.setExtraHTTPHeaders")?.params).toEqual({
      headers: { "X-Probe": "p1" },
    });
    expect(s.browserCommands).toEqual([
      { method: "Security.setIgnoreCertificateErrors", params: { ignore: true } },
    ]);

    expect(methods(s.pageCommands)).toEqual([
      "Emulation.setUserAgentOverride",
      "Emulation.setLocaleOverride",
      "Fetch.enable",
    ]);
    expect(find(s.pageCommands, "Emulation.setUserAgentOverride")?.params).toEqual({
      userAgent: IPHONE,
      acceptLanguage: "de-DE,de",
      userAgentMetadata: {
        mobile: true,
        model: "",
        architecture: "arm",
        platform: "iOS",
        platformVersion: "17_0",
        // Safari's User-Agent: no Chromium brand to claim.
        brands: [{ brand: "Not:A-Brand", version: "8" }],
        fullVersionList: [{ brand: "Not:A-Brand", version: "8.0.0.0" }],
      },
    });
    expect(find(s.pageCommands, "Emulation.setLocaleOverride")).toMatchObject({
      params: { locale: "de-DE" },
      alreadySet: "Another locale override is already in effect",
    });
    const patterns = find(s.pageCommands, "Fetch.enable")!.params.patterns as {
      urlPattern: string;
      requestStage: string;
    }[];
    expect(patterns).toContainEqual({ urlPattern: "*/adsbygoogle.js*", requestStage: "Request" });
    expect(patterns).toContainEqual({
      urlPattern: "*://*.doubleclick.net/*",
      requestStage: "Request",
    });
    expect(s.events).toEqual(["Fetch.requestPaused"]);
  });

  it("the request's own Accept-Language wins over the language list", () => {
    const s = pageState({ ...phoneInBerlin, headers: { "accept-language": "fr-FR" } });
    const ua = find(s.pageCommands, "Emulation.setUserAgentOverride")!;
    expect(ua.params.acceptLanguage).toBeUndefined();
    expect(find(s.pageCommands, "Emulation.setLocaleOverride")?.params.locale).toBe("de-DE");
    expect(find(s.contextCommands, "Network.setExtraHTTPHeaders")?.params).toEqual({
      headers: { "accept-language": "fr-FR" },
    });
  });

  it("a record with a locale but no language list sends the locale as Accept-Language", () => {
    const { languages: _, ...older } = phoneInBerlin;
    const ua = find(pageState(older).pageCommands, "Emulation.setUserAgentOverride")!;
    expect(ua.params.acceptLanguage).toBe("de-DE");
  });

  it("context options and their commands say the same", () => {
    for (const settings of [desktop, phoneInBerlin]) {
      const { contextOptions: o, contextCommands: c } = pageState(settings);
      const metrics = find(c, "Emulation.setDeviceMetricsOverride")!.params;
      expect([metrics.width, metrics.height, metrics.mobile]).toEqual([
        o.viewport.width,
        o.viewport.height,
        o.isMobile,
      ]);
      expect([metrics.screenWidth, metrics.screenHeight]).toEqual([
        o.screen.width,
        o.screen.height,
      ]);
      expect(find(c, "Emulation.setTouchEmulationEnabled") !== undefined).toBe(o.hasTouch);
      expect(find(c, "Emulation.setTimezoneOverride")?.params.timezoneId).toBe(o.timezoneId);
      expect(find(c, "Network.setExtraHTTPHeaders")?.params.headers).toEqual(o.extraHTTPHeaders);
      expect(pageState(settings).browserCommands.length > 0).toBe(o.ignoreHTTPSErrors);
    }
  });

  it("blocks paused ad requests and lets through what only the pattern caught", () => {
    const s = pageState(phoneInBerlin);
    const replies: [string, Record<string, unknown>][] = [];
    const reply = (method: string, params: Record<string, unknown>) =>
      replies.push([method, params]);
    const paused = (url: string, requestId: string) =>
      s.onEvent!("Fetch.requestPaused", { requestId, request: { url } }, reply);
    paused("https://securepubads.g.doubleclick.net/tag/js/gpt.js", "1");
    paused("https://example.com/static/adsbygoogle.js?client=x", "2");
    paused("https://example.com/search?q=doubleclick.net:443", "3");
    s.onEvent!("Network.requestWillBeSent", { requestId: "4" }, reply);
    expect(replies).toEqual([
      ["Fetch.failRequest", { requestId: "1", errorReason: "BlockedByClient" }],
      ["Fetch.failRequest", { requestId: "2", errorReason: "BlockedByClient" }],
      ["Fetch.continueRequest", { requestId: "3" }],
    ]);
  });
});

describe("sessionSetup", () => {
  it("pages get every command, iframes all but the device's, the browser the TLS one", () => {
    const state = pageState(phoneInBerlin);
    const setup = sessionSetup(state);
    expect(setup.browser).toEqual(state.browserCommands);
    expect(setup.page).toEqual([...state.contextCommands, ...state.pageCommands]);
    expect(methods(setup.frame)).toEqual(
      methods(setup.page).filter((m) => m !== "Emulation.setDeviceMetricsOverride"),
    );
    expect(setup.events).toEqual(["Fetch.requestPaused"]);
    expect(setup.onEvent).toBe(state.onEvent);
  });
});
