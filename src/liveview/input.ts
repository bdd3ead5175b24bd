import type { CDPSession } from "playwright-core";
import { keyEventParams } from "./keys.js";
import type { InputMessage } from "./protocol.js";

/** Where input goes: the current page's CDP session and its CSS viewport, if there is a page. */
export interface InputTarget {
  cdp: CDPSession;
  viewport: { width: number; height: number };
}

/** Beyond this many unsent events, moves and wheel turns are dropped (clicks and keys never). */
const MAX_QUEUED = 32;

/**
 * Sends viewer input to the session's page strictly in order (a mouse-up must never overtake its
 * mouse-down). Input from several control viewers goes through one queue per session.
 */
export class InputQueue {
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(private readonly target: () => InputTarget | undefined) {}

  push(msg: InputMessage): void {
    const droppable = msg.type === "wheel" || (msg.type === "mouse" && msg.action === "move");
    if (droppable && this.queued >= MAX_QUEUED) return;
    this.queued++;
    this.tail = this.tail.then(async () => {
      this.queued--;
      // While the stream (re)starts there is no target for a moment: a click or a key waits for
      // it rather than being lost; a move is not worth the wait.
      const target = this.target() ?? (droppable ? undefined : await this.targetSoon());
      // A page closing under us or a detached session is normal during navigation; skip the event.
      if (target) await dispatch(target, msg).catch(() => {});
    });
  }

  private async targetSoon(): Promise<InputTarget | undefined> {
    const end = Date.now() + TARGET_WAIT_MS;
    let target: InputTarget | undefined;
    while (!(target = this.target()) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
    }
    return target;
  }

  /** Resolves once everything queued so far has been sent. */
  idle(): Promise<void> {
    return this.tail;
  }
}

/** How long a click or key waits for the stream to be back before it is dropped. */
const TARGET_WAIT_MS = 3_000;
const MOUSE_TYPE = { move: "mouseMoved", down: "mousePressed", up: "mouseReleased" } as const;

async function dispatch({ cdp, viewport }: InputTarget, msg: InputMessage): Promise<void> {
  switch (msg.type) {
    case "mouse":
      await cdp.send("Input.dispatchMouseEvent", {
        type: MOUSE_TYPE[msg.action],
        x: msg.x * viewport.width,
        y: msg.y * viewport.height,
        button: msg.button,
        buttons: msg.buttons,
        clickCount: msg.action === "move" ? 0 : msg.clickCount,
        modifiers: msg.modifiers,
      });
      return;
    case "wheel":
      await cdp.send("Input.dispatchMouseEvent", {
        type: "mouseWheel",
        x: msg.x * viewport.width,
        y: msg.y * viewport.height,
        deltaX: msg.dx,
        deltaY: msg.dy,
        modifiers: msg.modifiers,
      });
      return;
    case "key": {
      const params = keyEventParams(msg);
      if (params) await cdp.send("Input.dispatchKeyEvent", params);
      return;
    }
    case "paste":
      await cdp.send("Input.insertText", { text: msg.text });
      return;
  }
}
