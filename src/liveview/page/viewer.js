/* global document, window, location, WebSocket, Blob, TextDecoder, fetch */
/* global createImageBitmap, requestAnimationFrame, setTimeout */
// The live-view page's script, inlined by render.ts. Plain browser JavaScript, no build step.
// Protocol: see src/liveview/README.md. The server alone decides whether input is accepted; in
// view mode this script simply never sends anything.
(() => {
  "use strict";
  const body = document.body;
  const control = body.dataset.mode === "control";
  const stage = document.getElementById("stage");
  const canvas = document.getElementById("screen");
  const g = canvas.getContext("2d");
  const statusEl = document.getElementById("status");
  const banner = document.getElementById("banner");
  const LABELS = {
    connecting: "Connecting…",
    live: control ? "Live" : "Live · view only",
    reconnecting: "Reconnecting…",
    ended: "Session ended",
  };
  const SESSION_ENDED = 4000;

  let state = "";
  let ws;
  let retries = 0;
  let drawnSeq = 0;
  let frames = 0;

  function setState(next) {
    if (state === "ended") return;
    state = next;
    body.dataset.state = next;
    statusEl.textContent = LABELS[next];
    banner.hidden = next !== "ended";
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const path = location.pathname.replace(/\/+$/, "") + "/ws";
    ws = new WebSocket(scheme + "//" + location.host + path + location.search);
    ws.binaryType = "arraybuffer";
    drawnSeq = 0;
    ws.onmessage = (e) => (typeof e.data === "string" ? onText(e.data) : void onFrame(e.data));
    ws.onclose = (e) => (e.code === SESSION_ENDED ? setState("ended") : reconnectLater());
  }

  function reconnectLater() {
    if (state === "ended") return;
    setState("reconnecting");
    const delay = Math.min(5000, 500 * 2 ** retries++);
    setTimeout(async () => {
      // A token that no longer exists means the session is over, not that the network failed.
      try {
        const res = await fetch(location.pathname, { method: "HEAD", cache: "no-store" });
        if (res.status === 404) return setState("ended");
      } catch {}
      connect();
    }, delay);
  }

  function onText(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.type === "status" && msg.state === "connected") {
      retries = 0;
      setState("live");
    } else if (msg.type === "status" && msg.state === "ended") {
      setState("ended");
    } else if (msg.type === "meta") {
      document.title = msg.title ? msg.title + " · Live view" : "Live view";
      body.dataset.url = msg.url;
    }
  }

  // Frame: 4-byte big-endian header length, JSON header { seq, ts }, then the JPEG.
  const decoder = new TextDecoder();
  async function onFrame(buf) {
    const n = new DataView(buf).getUint32(0);
    const header = JSON.parse(decoder.decode(new Uint8Array(buf, 4, n)));
    let bitmap;
    try {
      bitmap = await createImageBitmap(
        new Blob([new Uint8Array(buf, 4 + n)], { type: "image/jpeg" }),
      );
    } catch {
      return;
    }
    // Decoding is asynchronous; never let an older frame overwrite a newer one.
    if (header.seq < drawnSeq) return bitmap.close();
    drawnSeq = header.seq;
    if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
    }
    g.drawImage(bitmap, 0, 0);
    bitmap.close();
    body.dataset.frames = String(++frames);
  }

  setState("connecting");
  connect();
  if (!control) return;

  // ---- Interactive mode: mouse, wheel, keyboard and paste go to the session's page. ----

  function send(msg) {
    if (state === "live" && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  // Where the pointer is, as a fraction of the frame as drawn (object-fit: contain letterboxes).
  function position(e, clamp) {
    if (!canvas.width) return null;
    const r = canvas.getBoundingClientRect();
    const scale = Math.min(r.width / canvas.width, r.height / canvas.height);
    const w = canvas.width * scale;
    const h = canvas.height * scale;
    let x = (e.clientX - r.left - (r.width - w) / 2) / w;
    let y = (e.clientY - r.top - (r.height - h) / 2) / h;
    if (clamp) {
      x = Math.min(1, Math.max(0, x));
      y = Math.min(1, Math.max(0, y));
    } else if (x < 0 || x > 1 || y < 0 || y > 1) return null;
    return { x, y };
  }

  function modifiers(e) {
    return (e.altKey ? 1 : 0) | (e.ctrlKey ? 2 : 0) | (e.metaKey ? 4 : 0) | (e.shiftKey ? 8 : 0);
  }

  const BUTTONS = ["left", "middle", "right"];
  let pressed = 0;
  let moveQueued = null;

  canvas.addEventListener("mousedown", (e) => {
    const p = position(e, false);
    if (!p) return;
    e.preventDefault();
    stage.focus();
    pressed++;
    send({
      type: "mouse",
      action: "down",
      ...p,
      button: BUTTONS[e.button] || "left",
      buttons: e.buttons,
      clickCount: Math.min(3, Math.max(1, e.detail)),
      modifiers: modifiers(e),
    });
  });
  // On the window, so a button released outside the frame still ends the drag.
  window.addEventListener("mouseup", (e) => {
    if (pressed === 0) return;
    pressed--;
    send({
      type: "mouse",
      action: "up",
      ...position(e, true),
      button: BUTTONS[e.button] || "left",
      buttons: e.buttons,
      clickCount: Math.min(3, Math.max(1, e.detail)),
      modifiers: modifiers(e),
    });
  });
  // Moves go out at most once per animation frame, the latest position winning.
  window.addEventListener("mousemove", (e) => {
    const p = position(e, pressed > 0);
    if (!p) return;
    if (!moveQueued) requestAnimationFrame(flushMove);
    moveQueued = {
      type: "mouse",
      action: "move",
      ...p,
      buttons: e.buttons,
      modifiers: modifiers(e),
    };
  });
  function flushMove() {
    if (moveQueued) send(moveQueued);
    moveQueued = null;
  }
  canvas.addEventListener("contextmenu", (e) => e.preventDefault());
  canvas.addEventListener(
    "wheel",
    (e) => {
      const p = position(e, false);
      if (!p) return;
      e.preventDefault();
      const unit = e.deltaMode === 1 ? 40 : e.deltaMode === 2 ? 800 : 1;
      send({
        type: "wheel",
        ...p,
        dx: e.deltaX * unit,
        dy: e.deltaY * unit,
        modifiers: modifiers(e),
      });
    },
    { passive: false },
  );

  // Ctrl/Cmd+V is left to the browser so that its paste event brings the viewer's clipboard.
  const isPasteKey = (e) => (e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "v";
  function onKey(action, e) {
    if (isPasteKey(e) || e.isComposing) return;
    e.preventDefault();
    send({
      type: "key",
      action,
      key: e.key,
      code: e.code,
      modifiers: modifiers(e),
      repeat: e.repeat,
    });
  }
  window.addEventListener("keydown", (e) => onKey("down", e));
  window.addEventListener("keyup", (e) => onKey("up", e));
  window.addEventListener("paste", (e) => {
    e.preventDefault();
    const text = e.clipboardData ? e.clipboardData.getData("text/plain") : "";
    if (text) send({ type: "paste", text: text.slice(0, 100000) });
  });
  // No focus() on load: inside an iframe that would take the keyboard from the embedding page.
})();
