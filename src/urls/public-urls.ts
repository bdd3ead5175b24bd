/**
 * Every URL this server hands to clients is built here, from the one base URL clients reach it
 * at, so the paths the routes serve and the links the responses carry cannot drift apart.
 */

/** Path prefixes the HTTP layer serves. */
export const PATHS = {
  cdp: "/cdp/",
  live: "/live/",
  files: "/v2/files/",
  /** Files sessions' browsers downloaded, by their random id. */
  downloads: "/v2/downloads/",
  /** The API document (OpenAPI 3.1) and its readable reference. */
  openapi: "/v2/openapi.json",
  docs: "/docs",
} as const;

/**
 * The URL clients reach us at: PUBLIC_URL when set, else what the request says (its Host, or the
 * X-Forwarded-* headers when TRUST_PROXY lets Fastify believe them). No trailing slash.
 */
export function publicBaseUrl(
  configured: string | undefined,
  req: { protocol: string; host: string },
): string {
  return (configured ?? `${req.protocol}://${req.host}`).replace(/\/+$/, "");
}

/** A session's read-only and interactive live view URLs. */
export function liveViewUrls(baseUrl: string, tokens: { viewToken: string; controlToken: string }) {
  const base = baseUrl.replace(/\/+$/, "");
  return {
    liveViewUrl: `${base}${PATHS.live}${tokens.viewToken}`,
    interactiveLiveViewUrl: `${base}${PATHS.live}${tokens.controlToken}`,
  };
}

/** A session's CDP URL and live view URLs. */
export function sessionUrls(
  baseUrl: string,
  tokens: { cdpToken: string; viewToken: string; controlToken: string },
) {
  const base = baseUrl.replace(/\/+$/, "");
  return {
    cdpUrl: `${base.replace(/^http/, "ws")}${PATHS.cdp}${tokens.cdpToken}`,
    ...liveViewUrls(base, tokens),
  };
}

/** A stored file's URL; inline data: URIs (zero data retention) are returned as they are. */
export function fileUrl(baseUrl: string, ref: string): string {
  return ref.startsWith("data:") ? ref : `${baseUrl.replace(/\/+$/, "")}${PATHS.files}${ref}`;
}
