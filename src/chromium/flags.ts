/**
 * Flags for headless Chromium on a server. The networking ones matter: without them Chromium
 * keeps calling Google services, which on a closed network means a stream of refused connections.
 */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
  "--disable-breakpad",
  "--disable-crash-reporter",
  "--mute-audio",
  "--password-store=basic",
  "--use-mock-keychain",
  // The headless shell sends no Accept-Language of its own; full Chromium sends this one.
  "--accept-lang=en-US,en;q=0.9",
  // Fewer helper processes, each of which costs memory per browser: every session has its own
  // browser, so these add up. GPU work (software only here) and the network service run inside
  // the browser process; renderers start without a zygote (Chromium's own sandbox is off
  // anyway: the jail is the sandbox).
  "--in-process-gpu",
  "--enable-features=NetworkServiceInProcess2",
  "--no-zygote",
];

/** Default window size, also the viewport a scrape and its session use unless mobile. */
export const DESKTOP_VIEWPORT = { width: 1280, height: 800 } as const;
export const MOBILE_VIEWPORT = { width: 390, height: 844 } as const;
export const MOBILE_USER_AGENT =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 " +
  "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
