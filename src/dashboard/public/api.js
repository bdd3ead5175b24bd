/* global localStorage, location, fetch */
// Every call the page makes goes through here: the server's public API, with the key if one is set.

const KEY_ITEM = "fcis.apiKey";
const keyListeners = [];

/** The API key the page sends, or "" (a server without authentication needs none). */
export function apiKey() {
  return localStorage.getItem(KEY_ITEM) ?? "";
}

export function setApiKey(key) {
  if (key) localStorage.setItem(KEY_ITEM, key);
  else localStorage.removeItem(KEY_ITEM);
}

/** Calls `fn(message)` whenever the server answers 401: the page must ask for a key. */
export function onKeyNeeded(fn) {
  keyListeners.push(fn);
}

/**
 * One API call. Resolves to `{ status, body }` whatever the status (an interact that failed is
 * still an answer to show); rejects only when the server cannot be reached.
 */
export async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  const key = apiKey();
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let json;
  try {
    json = await res.json();
  } catch {
    json = { success: false, error: `The server answered HTTP ${res.status} without JSON.` };
  }
  if (res.status === 401) for (const fn of keyListeners) fn(json.error ?? "An API key is needed.");
  return { status: res.status, body: json };
}

/** The message to show for a failed call. */
export function errorText({ status, body }) {
  const code = body?.code ? ` ${body.code}` : "";
  return `HTTP ${status}${code}: ${body?.error ?? "request failed"}`;
}

/** The same request as a curl command line, with the key as a variable rather than its value. */
export function asCurl(method, path, body) {
  const url = new URL(path, location.href).href;
  const lines = [`curl -X ${method} '${url}'`];
  if (apiKey()) lines.push(`  -H "Authorization: Bearer $FIRECRAWL_API_KEY"`);
  if (body !== undefined) {
    lines.push(`  -H 'Content-Type: application/json'`);
    lines.push(`  -d '${JSON.stringify(body).replaceAll("'", "'\\''")}'`);
  }
  return lines.join(" \\\n");
}

/** Lines that build the official JS SDK's client against this server. */
export function sdkClient() {
  const key = apiKey() ? "apiKey: process.env.FIRECRAWL_API_KEY, " : "";
  return [
    'import Firecrawl from "@mendable/firecrawl-js";',
    "",
    `const app = new Firecrawl({ ${key}apiUrl: ${JSON.stringify(location.origin)} });`,
  ].join("\n");
}
