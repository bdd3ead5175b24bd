import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { CdpClient } from "./client.js";
import { CdpMux } from "./mux.js";
import { PipeReader } from "./pipe-reader.js";

/** A browser end of the pipe that grants browser sessions and answers `answered` methods only. */
function fakeBrowser(answered: string[]) {
  const toBrowser = new PassThrough();
  const fromBrowser = new PassThrough();
  const emit = (text: string) => fromBrowser.write(text + "\0");
  const reader = new PipeReader((text) => {
    const msg = JSON.parse(text);
    const tail = msg.sessionId ? `,"sessionId":"${msg.sessionId}"` : "";
    if (msg.method === "Target.attachToBrowserTarget") {
      emit(`{"id":${msg.id},"result":{"sessionId":"B1"}}`);
    } else if (msg.method === "Fail.me") {
      emit(`{"id":${msg.id},"error":{"code":-32000,"message":"no such thing"}${tail}}`);
    } else if (answered.includes(msg.method)) {
      emit(`{"id":${msg.id},"result":{"echo":"${msg.method}"}${tail}}`);
    }
  });
  toBrowser.on("data", (chunk: Buffer) => reader.push(chunk));
  return { mux: new CdpMux(toBrowser, fromBrowser), emit };
}

describe("CdpClient", () => {
  it("resolves replies, rejects errors with the method named, hands events over as text", async () => {
    const { mux, emit } = fakeBrowser(["Browser.getVersion"]);
    const events: string[] = [];
    const client = new CdpClient(mux, (text) => events.push(text));
    await expect(client.send("Browser.getVersion", {}, { timeoutMs: 1_000 })).resolves.toEqual({
      echo: "Browser.getVersion",
    });
    await expect(client.send("Fail.me", {}, { timeoutMs: 1_000 })).rejects.toThrow(
      "Fail.me: no such thing",
    );
    emit('{"method":"Target.targetCreated","params":{},"sessionId":"B1"}');
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual(['{"method":"Target.targetCreated","params":{}}']);
  });

  it("bounds every call in time", async () => {
    const { mux } = fakeBrowser([]);
    const client = new CdpClient(mux, () => {});
    await expect(client.send("Never.answered", {}, { timeoutMs: 50 })).rejects.toThrow(
      "Never.answered: no answer within 50 ms",
    );
  });

  it("fails what it waits for at once when the browser goes", async () => {
    const { mux } = fakeBrowser([]);
    const client = new CdpClient(mux, () => {});
    const pending = client.send("Never.answered", {}, { timeoutMs: 60_000 });
    await new Promise((r) => setImmediate(r));
    mux.close();
    await expect(pending).rejects.toThrow("the browser connection is closed");
    await expect(client.send("Later", {}, { timeoutMs: 60_000 })).rejects.toThrow(/closed/);
  });
});
