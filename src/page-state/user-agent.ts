/**
 * Client hints to go with an overridden User-Agent, as Playwright derives them: without them
 * `navigator.userAgentData` and the Sec-CH-UA-* headers would still describe headless Chromium
 * on Linux whatever the User-Agent says.
 */
export function userAgentMetadata(userAgent: string, mobile: boolean): Record<string, unknown> {
  const metadata = {
    mobile,
    model: "",
    architecture: "x86",
    platform: "Windows",
    platformVersion: "",
  };
  const android = /Android (\d+(\.\d+)?(\.\d+)?)/.exec(userAgent);
  const iPhone = /iPhone OS (\d+(_\d+)?)/.exec(userAgent);
  const iPad = /iPad; CPU OS (\d+(_\d+)?)/.exec(userAgent);
  const macOS = /Mac OS X (\d+(_\d+)?(_\d+)?)/.exec(userAgent);
  const windows = /Windows\D+(\d+(\.\d+)?(\.\d+)?)/.exec(userAgent);
  if (android) {
    Object.assign(metadata, {
      platform: "Android",
      platformVersion: android[1],
      architecture: "arm",
    });
  } else if (iPhone || iPad) {
    const version = (iPhone ?? iPad)![1];
    Object.assign(metadata, { platform: "iOS", platformVersion: version, architecture: "arm" });
  } else if (macOS) {
    metadata.platform = "macOS";
    metadata.platformVersion = macOS[1]!;
    if (!userAgent.includes("Intel")) metadata.architecture = "arm";
  } else if (windows) {
    metadata.platformVersion = windows[1]!;
  } else if (userAgent.toLowerCase().includes("linux")) {
    metadata.platform = "Linux";
  }
  if (userAgent.includes("ARM")) metadata.architecture = "arm";
  return { ...metadata, ...brandsFor(userAgent) };
}

/**
 * The browser brands Sec-CH-UA lists, as Chromium itself lists them for the User-Agent's version.
 * Left to Chromium, a headless build adds a "HeadlessChrome" brand, which sites treat as a bot.
 * A User-Agent of another browser (Safari on an iPhone) gets only the placeholder brand.
 */
function brandsFor(userAgent: string) {
  const grease = { brand: "Not:A-Brand", version: "8" };
  const chrome = /(?:Chrome|Chromium)\/(\d+)((?:\.\d+)*)/.exec(userAgent);
  const greaseFull = { ...grease, version: "8.0.0.0" };
  if (!chrome) return { brands: [grease], fullVersionList: [greaseFull] };
  const [, major, rest] = chrome;
  const full = `${major}${rest || ".0.0.0"}`;
  return {
    brands: [grease, { brand: "Chromium", version: major }],
    fullVersionList: [greaseFull, { brand: "Chromium", version: full }],
    fullVersion: full,
  };
}
