import type { Page, Response } from "playwright-core";
import { isTimeout } from "./actions.js";
import type { Deadline } from "../deadline/deadline.js";
import { EGRESS_FAILURE_HEADER, type EgressProxy } from "../network/egress-proxy.js";
import { egressError, navigationError } from "./navigation-errors.js";
import type { ScrapeRequest } from "./request.js";

/** Navigates and turns every way a load can fail into an error naming cause and host. */
export async function navigate(
  page: Page,
  req: ScrapeRequest,
  deadline: Deadline,
  proxy: EgressProxy,
): Promise<Response | null> {
  // Through the proxy a failed hop shows up as a tunnel error; remember which URL it was.
  let lastNavigation = req.url;
  const since = Date.now();
  page.on("request", (r) => {
    if (r.isNavigationRequest() && r.frame() === page.mainFrame()) lastNavigation = r.url();
  });
  let response: Response | null;
  try {
    response = await page.goto(req.url, { waitUntil: "load", timeout: deadline.remaining() });
  } catch (err) {
    const failure = proxy.failureFor(...hostAndPort(lastNavigation), since);
    throw (
      deadline.abortError() ??
      (isTimeout(err) ? deadline.timeoutError() : undefined) ??
      (failure ? egressError(failure, lastNavigation) : navigationError(err, req.url))
    );
  }
  const refused = response?.headers()[EGRESS_FAILURE_HEADER];
  if (response && refused) {
    const [host, port] = hostAndPort(response.url());
    throw egressError(
      proxy.failureFor(host, port, since) ?? { kind: "unreachable", host },
      response.url(),
    );
  }
  return response;
}

/** The host and port a URL's connection goes to (the scheme's default port when none is given). */
function hostAndPort(url: string): [string, number] {
  try {
    const u = new URL(url);
    return [
      u.hostname,
      Number(u.port) || (u.protocol === "https:" || u.protocol === "wss:" ? 443 : 80),
    ];
  } catch {
    return [url, 0];
  }
}
