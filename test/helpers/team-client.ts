import type { TestServer } from "./server.js";

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

/** Calls the server's /v2 API as one team (a key), or with no Authorization header at all. */
export function teamClient(server: { url: string }, key?: string) {
  const call = async (method: string, path: string, body?: unknown): Promise<Reply> => {
    const headers: Record<string, string> = {};
    if (key !== undefined) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: res.status, headers: res.headers, body: parsed };
  };
  return {
    /** Any call: the answer's status, headers and body (parsed when it is JSON). */
    call,
    scrape: (url: string, opts: Record<string, unknown> = {}) =>
      call("POST", "/v2/scrape", { url, ...opts }),
    /** Scrapes url and returns the scrape id, failing loudly otherwise. */
    async scrapeId(url: string): Promise<string> {
      const res = await call("POST", "/v2/scrape", { url });
      if (res.status !== 200) throw new Error(`scrape: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.data.metadata.scrapeId;
    },
    interact: (id: string, body: Record<string, unknown> = { code: "1" }) =>
      call("POST", `/v2/scrape/${id}/interact`, body),
    stop: (id: string) => call("DELETE", `/v2/scrape/${id}/interact`),
    credits: () => call("GET", "/v2/team/credit-usage"),
    /** The standalone browser API. */
    browser: {
      create: (body: Record<string, unknown> = {}) => call("POST", "/v2/browser", body),
      execute: (id: string, body: Record<string, unknown>) =>
        call("POST", `/v2/browser/${id}/execute`, body),
      /** Runs node code and returns its result, failing loudly otherwise. */
      async node(id: string, code: string): Promise<string> {
        const res = await call("POST", `/v2/browser/${id}/execute`, { code, language: "node" });
        if (res.status !== 200 || !res.body.success) {
          throw new Error(`execute: ${res.status} ${JSON.stringify(res.body)}`);
        }
        return res.body.result as string;
      },
      list: (query = "") => call("GET", `/v2/browser${query}`),
      stop: (id: string) => call("DELETE", `/v2/browser/${id}`),
    },
  };
}

/** A team made through the server's own team service, with a key and credits. */
export async function makeTeam(
  server: TestServer,
  name: string,
  credits: number,
): Promise<{ id: string; key: string; keyId: string }> {
  const team = await server.services.teams.createTeam(name);
  const { key, record } = await server.services.teams.createKey(team.id);
  if (credits > 0) await server.services.teams.grant(team.id, credits, "test");
  return { id: team.id, key, keyId: record.id };
}
