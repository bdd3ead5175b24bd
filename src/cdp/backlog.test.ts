import { afterEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { CdpBacklog, CLOSE_UNREAD } from "./backlog.js";
import { PipeReader } from "./pipe-reader.js";

const MB = 1024 * 1024;

/** A WebSocket as the backlog sees it: what it holds unread, and how it was ended. */
function fakeSocket(unread = 0) {
  const ws = {
    readyState: WebSocket.OPEN as number,
    bufferedAmount: unread,
    ended: undefined as undefined | "terminated" | { code: number; reason: string },
    sent: [] as string[],
    send(text: string, done?: () => void) {
      this.sent.push(text);
      this.bufferedAmount += text.length;
      this.flush = () => {
        this.bufferedAmount -= text.length;
        done?.();
      };
    },
    flush: () => {},
    close(code: number, reason: string) {
      this.ended = { code, reason };
      this.readyState = WebSocket.CLOSING;
    },
    terminate() {
      this.ended = "terminated";
      this.readyState = WebSocket.CLOSED;
    },
  };
  return ws as typeof ws & WebSocket;
}

afterEach(() => vi.useRealTimers());

describe("CdpBacklog", () => {
  it("lets a message through while everything unread stays under the limit", () => {
    const backlog = new CdpBacklog({ maxBytes: 10 * MB, stallMs: 30_000 });
    const a = fakeSocket(3 * MB);
    const b = fakeSocket(0);
    backlog.add(a);
    backlog.add(b);
    expect(backlog.makeRoom(b, 7 * MB)).toBe(true);
    expect(a.ended).toBeUndefined();
    backlog.stop();
  });

  it("cuts off the clients holding the most unread bytes until a message fits", () => {
    const backlog = new CdpBacklog({ maxBytes: 10 * MB, stallMs: 30_000 });
    const most = fakeSocket(6 * MB);
    const some = fakeSocket(1 * MB);
    const reader = fakeSocket(0);
    for (const ws of [most, some, reader]) backlog.add(ws);
    expect(backlog.makeRoom(reader, 5 * MB)).toBe(true);
    // Its bytes are still queued: it is not reading, so it is dropped, not closed politely.
    expect(most.ended).toBe("terminated");
    expect(some.ended).toBeUndefined();
    expect(reader.ended).toBeUndefined();
    backlog.stop();
  });

  it("refuses a message that cannot fit even alone, and cuts off nobody else for it", () => {
    const backlog = new CdpBacklog({ maxBytes: 10 * MB, stallMs: 30_000 });
    const other = fakeSocket(4 * MB);
    const greedy = fakeSocket(0);
    backlog.add(other);
    backlog.add(greedy);
    expect(backlog.makeRoom(greedy, 11 * MB)).toBe(false);
    expect(other.ended).toBeUndefined();
    backlog.tooLarge(greedy, 11 * MB);
    expect(greedy.ended).toEqual({ code: CLOSE_UNREAD, reason: expect.stringMatching(/10 MB/) });
    backlog.stop();
  });

  it("counts what a client already holds against the message for it", () => {
    const backlog = new CdpBacklog({ maxBytes: 10 * MB, stallMs: 30_000 });
    const holder = fakeSocket(6 * MB);
    backlog.add(holder);
    expect(backlog.makeRoom(holder, 5 * MB)).toBe(false);
    backlog.stop();
  });

  it("cuts off a client that reads nothing of its unread bytes for stallMs, not one that reads", () => {
    vi.useFakeTimers();
    const backlog = new CdpBacklog({ maxBytes: 64 * MB, stallMs: 4_000 });
    const stuck = fakeSocket(0);
    const slow = fakeSocket(0);
    backlog.add(stuck);
    backlog.add(slow);
    backlog.send(stuck, "x".repeat(1000), 1000);
    for (let second = 0; second < 8; second++) {
      // The slow one gets a message each second and reads the one before.
      slow.flush();
      backlog.send(slow, "y".repeat(1000), 1000);
      vi.advanceTimersByTime(1_000);
    }
    expect(stuck.ended).toEqual({
      code: CLOSE_UNREAD,
      reason: expect.stringMatching(/read nothing for 4 s/),
    });
    expect(slow.ended).toBeUndefined();
    backlog.stop();
  });
});

describe("PipeReader admission", () => {
  it("asks about a long message as it arrives and skips the rest once refused", () => {
    const out: string[] = [];
    const asked: [string, number][] = [];
    const r = new PipeReader(
      (t) => out.push(t),
      undefined,
      (head, bytes) => {
        asked.push([head, bytes]);
        return bytes < 2 * MB;
      },
    );
    const half = Buffer.alloc(MB, "x");
    r.push(Buffer.from('{"id":7,"result":"'));
    r.push(half);
    r.push(half);
    r.push(half);
    r.push(Buffer.from('"}\0{"id":8,"result":1}\0'));
    expect(out).toEqual(['{"id":8,"result":1}']);
    expect(asked.map(([, bytes]) => bytes)).toEqual([MB + 18, 2 * MB + 18]);
    expect(asked[0]![0]).toMatch(/^\{"id":7,"result":"x+$/);
  });
});
