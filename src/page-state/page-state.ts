import type { CdpCommand } from "../cdp/client.js";
import type { TargetCommand, TargetSetup } from "../chromium/page-preparer.js";
import { AD_URL_PATTERNS, isAdUrl } from "./ad-block.js";
import { userAgentMetadata } from "./user-agent.js";

/**
 * How a scrape set its page up before loading it: what a browser needs to show a page the way
 * the scrape saw it. Part of the replay context, so a session sets its pages up the same way.
 */
export interface PageSettings {
  /** Extra request headers the scrape sent (also sent by the session). */
  headers: Record<string, string>;
  viewport: { width: number; height: number };
  mobile: boolean;
  userAgent?: string;
  locale?: string;
  /**
   * Languages from `location`, in order (navigator.languages; Accept-Language is built from
   * them). Absent when the scrape asked for no location.
   */
  languages?: string[];
  timezoneId?: string;
  ignoreHTTPSErrors: boolean;
  blockAds: boolean;
}

/** A command for each page, and whether out-of-process iframes need it too. */
export interface PageCommand extends TargetCommand {
  frames: boolean;
}

/** Playwright context options this module fills in (a subset of BrowserContextOptions). */
export interface ContextOptions {
  viewport: { width: number; height: number };
  screen: { width: number; height: number };
  isMobile: boolean;
  hasTouch: boolean;
  timezoneId?: string;
  extraHTTPHeaders?: Record<string, string>;
  ignoreHTTPSErrors: boolean;
}

/** PageSettings turned into what a browser takes. */
export interface PageState {
  /**
   * Device, touch, time zone, headers and TLS as Playwright context options: how a browser
   * context created by Playwright (a scrape's) holds them for all of its pages.
   */
  contextOptions: ContextOptions;
  /**
   * The same settings (certificates aside) as the commands Playwright sends for those options,
   * for pages no Playwright context manages (a session's, opened by anyone).
   */
  contextCommands: PageCommand[];
  /**
   * Certificate errors, browser-wide: for a browser that serves one session alone. A shared
   * browser takes contextOptions.ignoreHTTPSErrors instead.
   */
  browserCommands: CdpCommand[];
  /**
   * What no Playwright option expresses, sent to each page by scrape and session alike: the user
   * agent with the whole language list (Playwright's `locale` would send one language, over any
   * Accept-Language header of the request), the locale, and ad blocking.
   */
  pageCommands: PageCommand[];
  /** Events pageCommands make pages send (paused requests), and how to answer them. */
  events: string[];
  onEvent?: TargetSetup["onEvent"];
}

/** The one definition of how a page is set up before it loads, for scrape and session alike. */
export function pageState(s: PageSettings): PageState {
  const headers = Object.keys(s.headers).length > 0 ? s.headers : undefined;
  const contextOptions: ContextOptions = {
    viewport: { ...s.viewport },
    screen: { ...s.viewport },
    isMobile: s.mobile,
    hasTouch: s.mobile,
    timezoneId: s.timezoneId,
    extraHTTPHeaders: headers,
    ignoreHTTPSErrors: s.ignoreHTTPSErrors,
  };
  return {
    contextOptions,
    contextCommands: contextCommands(contextOptions),
    browserCommands: s.ignoreHTTPSErrors
      ? [{ method: "Security.setIgnoreCertificateErrors", params: { ignore: true } }]
      : [],
    pageCommands: pageCommands(s),
    events: s.blockAds ? ["Fetch.requestPaused"] : [],
    onEvent: s.blockAds ? answerPausedRequest : undefined,
  };
}

/** What a session's browser applies to every page it opens, and to its iframes. */
export function sessionSetup(state: PageState): TargetSetup {
  const page = [...state.contextCommands, ...state.pageCommands];
  return {
    browser: state.browserCommands,
    page,
    frame: page.filter((c) => c.frames),
    events: state.events,
    onEvent: state.onEvent,
  };
}

/** The commands Playwright sends for these context options (see its crPage.ts). */
function contextCommands(o: ContextOptions): PageCommand[] {
  const landscape = o.screen.width > o.screen.height;
  const commands: PageCommand[] = [
    {
      method: "Emulation.setDeviceMetricsOverride",
      params: {
        mobile: o.isMobile,
        width: o.viewport.width,
        height: o.viewport.height,
        screenWidth: o.screen.width,
        screenHeight: o.screen.height,
        deviceScaleFactor: 1,
        screenOrientation: !o.isMobile
          ? { angle: 0, type: "landscapePrimary" }
          : landscape
            ? { angle: 90, type: "landscapePrimary" }
            : { angle: 0, type: "portraitPrimary" },
      },
      frames: false, // an iframe takes its page's
    },
  ];
  if (o.hasTouch) {
    commands.push({
      method: "Emulation.setTouchEmulationEnabled",
      params: { enabled: true },
      frames: true,
    });
  }
  if (o.timezoneId) {
    commands.push({
      method: "Emulation.setTimezoneOverride",
      params: { timezoneId: o.timezoneId },
      alreadySet: "Timezone override is already in effect",
      frames: true,
    });
  }
  if (o.extraHTTPHeaders) {
    // Extra headers only apply with the Network domain on. Its events are not read, so nothing
    // of response bodies needs keeping for this session.
    commands.push(
      {
        method: "Network.enable",
        params: { maxTotalBufferSize: 0, maxResourceBufferSize: 0 },
        frames: true,
      },
      {
        method: "Network.setExtraHTTPHeaders",
        params: { headers: o.extraHTTPHeaders },
        frames: true,
      },
    );
  }
  return commands;
}

function pageCommands(s: PageSettings): PageCommand[] {
  const commands: PageCommand[] = [];
  const ownLanguage = Object.keys(s.headers).some((h) => h.toLowerCase() === "accept-language");
  const languages = ownLanguage ? undefined : (s.languages ?? (s.locale ? [s.locale] : undefined));
  if (s.userAgent || languages) {
    const params: Record<string, unknown> = { userAgent: s.userAgent ?? "" };
    // Chromium turns the list into navigator.languages and Accept-Language with q-values.
    if (languages) params.acceptLanguage = languages.join(",");
    if (s.userAgent) params.userAgentMetadata = userAgentMetadata(s.userAgent, s.mobile);
    commands.push({ method: "Emulation.setUserAgentOverride", params, frames: true });
  }
  if (s.locale) {
    commands.push({
      method: "Emulation.setLocaleOverride",
      params: { locale: s.locale },
      alreadySet: "Another locale override is already in effect",
      frames: true,
    });
  }
  if (s.blockAds) {
    // Only requests matching the block list are paused, so every other one flows untouched.
    const patterns = AD_URL_PATTERNS.map((urlPattern) => ({ urlPattern, requestStage: "Request" }));
    commands.push({ method: "Fetch.enable", params: { patterns }, frames: true });
  }
  return commands;
}

/** Fails a paused ad request; lets through what the patterns caught but isAdUrl clears. */
function answerPausedRequest(
  method: string,
  params: Record<string, unknown>,
  reply: (method: string, params: Record<string, unknown>) => void,
): void {
  if (method !== "Fetch.requestPaused") return;
  const { requestId, request } = params as { requestId: string; request: { url: string } };
  if (isAdUrl(request.url))
    reply("Fetch.failRequest", { requestId, errorReason: "BlockedByClient" });
  else reply("Fetch.continueRequest", { requestId });
}
