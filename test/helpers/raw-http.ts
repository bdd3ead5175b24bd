import net from "node:net";

/** Writes a raw HTTP request and returns everything the server answered before closing. */
export function rawRequest(serverUrl: string, request: string): Promise<string> {
  const { hostname, port } = new URL(serverUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(request));
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (d) => (text += d));
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${request}`)));
  });
}

/** Splits a raw HTTP response into its status code and parsed JSON body (text when not JSON). */
export function parseRaw(raw: string): { status: number; body: any } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
  const text = raw.slice(raw.indexOf("\r\n\r\n") + 4);
  try {
    return { status, body: JSON.parse(text) };
  } catch {
    return { status, body: text };
  }
}

/** One request on its own connection (`Connection: close`), as a client could spell it. */
export async function rawCall(
  serverUrl: string,
  method: string,
  target: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const payload = body === undefined ? "" : JSON.stringify(body);
  const head =
    `${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n` +
    (body === undefined
      ? ""
      : `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n`);
  return parseRaw(await rawRequest(serverUrl, `${head}\r\n${payload}`));
}
