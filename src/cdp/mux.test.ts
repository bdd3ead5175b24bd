import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { CdpMux } from "./mux.js";
import { PipeReader } from "./pipe-reader.js";

/**
 * A stand-in for Chromium's end of the pipe that answers like it: attachToBrowserTarget hands
 * out session ids, other commands echo their method back, in Chromium's key order.
 */
function fakeBrowser() {
  const toBrowser = new PassThrough();
  const fromBrowser = new PassThrough();
  const seen: Record<string, unknown>[] = [];
  let sessions = 0;
  const emit = (text: string) => fromBrowser.write(text + "\0");
  toBrowser.on("data", (chunk: Buffer) => reader.push(chunk));
  const reader = new PipeReader((text) => {
    const msg = JSON.parse(text);
    seen.push(msg);
    const tail = msg.sessionId ? `,"sessionId":"${msg.sessionId}"` : "";
    if (msg.method === "Target.attachToBrowserTarget") {
      emit(`{"id":${msg.id},"result":{"sessionId":"B${++sessions}"}}`);
    } else if (msg.method === "Target.attachToTarget") {
      emit(`{"id":${msg.id},"result":{"sessionId":"P${++sessions}"}${tail}}`);
    } else {
      emit(`{"id":${msg.id},"result":{"echo":"${msg.method}"}${tail}}`);
    }
  });
  return { mux: new CdpMux(toBrowser, fromBrowser), seen, emit };
}

/** An in-process client that collects what it receives and can wait for a reply by id. */
function client(mux: CdpMux) {
  const got: any[] = [];
  const waiters = new Map<number, (m: any) => void>();
  const conn = mux.connect((text) => {
    const msg = JSON.parse(text);
    got.push(msg);
    if (msg.id !== undefined) waiters.get(msg.id)?.(msg);
  });
  const call = (msg: Record<string, unknown>) =>
    new Promise<any>((resolve) => {
      waiters.set(msg.id as number, resolve);
      conn.send(JSON.stringify(msg));
    });
  return { got, call, close: conn.close };
}

describe("CdpMux", () => {
  it("gives each client its own browser session and its own ids", async () => {
    const { mux, seen } = fakeBrowser();
    const a = client(mux);
    const b = client(mux);
    const [ra, rb] = await Promise.all([
      a.call({ id: 1, method: "Browser.getVersion" }),
      b.call({ id: 1, method: "Browser.getVersion" }),
    ]);
    // Both see their own id 1, and no sessionId: as if each had the browser to itself.
    expect(ra).toEqual({ id: 1, result: { echo: "Browser.getVersion" } });
    expect(rb).toEqual({ id: 1, result: { echo: "Browser.getVersion" } });
    const sent = seen.filter((m) => m.method === "Browser.getVersion");
    expect(new Set(sent.map((m) => m.sessionId)).size).toBe(2);
    expect(new Set(sent.map((m) => m.id)).size).toBe(2);
  });

  it("lets a client address only the sessions it attached", async () => {
    const { mux, seen } = fakeBrowser();
    const a = client(mux);
    const b = client(mux);
    const attached = await a.call({ id: 1, method: "Target.attachToTarget", params: {} });
    const own = attached.result.sessionId;
    expect(await a.call({ id: 2, method: "Runtime.evaluate", sessionId: own })).toMatchObject({
      id: 2,
      result: { echo: "Runtime.evaluate" },
      sessionId: own,
    });
    const stolen = await b.call({ id: 2, method: "Runtime.evaluate", sessionId: own });
    expect(stolen.error.message).toMatch(/Session with given id not found/);
    expect(seen.filter((m) => m.method === "Runtime.evaluate")).toHaveLength(1);
  });

  it("routes events to the client owning their session", async () => {
    const { mux, emit } = fakeBrowser();
    const a = client(mux);
    const b = client(mux);
    await a.call({ id: 1, method: "Browser.getVersion" });
    await b.call({ id: 1, method: "Browser.getVersion" });
    // B1 is a's browser session (it connected first), B2 b's.
    emit('{"method":"Target.targetCreated","params":{"targetInfo":{}},"sessionId":"B1"}');
    emit('{"method":"Target.attachedToTarget","params":{"sessionId":"C9"},"sessionId":"B2"}');
    emit('{"method":"Page.loadEventFired","params":{},"sessionId":"C9"}');
    emit('{"method":"Page.loadEventFired","params":{},"sessionId":"UNKNOWN"}');
    await new Promise((r) => setImmediate(r));
    expect(a.got.map((m) => m.method).filter(Boolean)).toEqual(["Target.targetCreated"]);
    expect(b.got.map((m) => m.method).filter(Boolean)).toEqual([
      "Target.attachedToTarget",
      "Page.loadEventFired",
    ]);
    // What b attached through its events is b's to address.
    expect(await b.call({ id: 5, method: "Page.enable", sessionId: "C9" })).toMatchObject({
      result: { echo: "Page.enable" },
    });
  });

  it("detaches a client's browser session when it goes away", async () => {
    const { mux, seen } = fakeBrowser();
    const a = client(mux);
    await a.call({ id: 1, method: "Browser.getVersion" });
    a.close();
    expect(seen.at(-1)).toMatchObject({
      method: "Target.detachFromTarget",
      params: { sessionId: "B1" },
    });
  });
});

describe("PipeReader", () => {
  it("splits messages across and within chunks", () => {
    const out: string[] = [];
    const r = new PipeReader((t) => out.push(t));
    r.push(Buffer.from('{"a":1}\0{"b"'));
    r.push(Buffer.from(':2}\0{"c":3}\0'));
    expect(out).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it("drops a message past the size bound and reads on after it", () => {
    const out: string[] = [];
    const r = new PipeReader((t) => out.push(t), 10);
    r.push(Buffer.from('{"x":"0123456789'));
    r.push(Buffer.from('0123456789"}\0{"ok":1}\0'));
    expect(out).toEqual(['{"ok":1}']);
  });
});
