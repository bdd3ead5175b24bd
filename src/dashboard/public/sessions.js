/* global document, setTimeout, clearTimeout */
// The sessions list: polls GET /v2/sessions and updates each row in place, so the live
// thumbnails keep streaming instead of reloading on every refresh.

import { api, errorText } from "./api.js";

const POLL_MS = 2000;
const THUMBNAIL = "fps=2&quality=40&maxWidth=480";

const list = document.getElementById("session-list");
const empty = document.getElementById("sessions-empty");
const summary = document.getElementById("sessions-summary");
const rows = new Map();
let timer;
let notify = () => {};

/** Starts polling; `onError(message)` hears about calls that fail. */
export function startSessionList(onError) {
  notify = onError;
  void refresh();
}

/** Refreshes now (after a stop, a new session) rather than at the next tick. */
export async function refresh() {
  clearTimeout(timer);
  try {
    if (document.visibilityState !== "hidden") await load();
  } finally {
    timer = setTimeout(refresh, POLL_MS);
  }
}

async function load() {
  let answer;
  try {
    answer = await api("GET", "/v2/sessions");
  } catch {
    summary.textContent = "The server cannot be reached; retrying…";
    return;
  }
  if (answer.status !== 200) {
    summary.textContent = errorText(answer);
    return;
  }
  render(answer.body.sessions);
}

function render(sessions) {
  const seen = new Set();
  sessions.forEach((s, i) => {
    seen.add(s.id);
    let row = rows.get(s.id);
    if (!row) {
      row = createRow(s);
      rows.set(s.id, row);
    }
    updateRow(row, s);
    if (list.children[i] !== row.el) list.insertBefore(row.el, list.children[i] ?? null);
  });
  for (const [id, row] of rows) {
    if (!seen.has(id)) {
      row.el.remove();
      rows.delete(id);
    }
  }
  const live = sessions.filter((s) => s.status !== "destroyed").length;
  summary.textContent = `${live} live, ${sessions.length - live} ended in the last 10 minutes.`;
  empty.hidden = sessions.length > 0;
}

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function createRow(s) {
  const fields = {};
  const labels = {};
  const field = (name, label) => {
    fields[name] = el("dd");
    labels[name] = el("dt", { textContent: label });
    return [labels[name], fields[name]];
  };
  const thumb = el("div", { className: "thumb" });
  const watch = el("a", { textContent: "Watch", target: "_blank", rel: "noopener" });
  const takeOver = el("a", { textContent: "Take over", target: "_blank", rel: "noopener" });
  const stop = el("button", { type: "button", textContent: "Stop", className: "danger" });
  stop.addEventListener("click", () => stopSession(s, stop));
  const title = el("h3", { className: "session-title" });
  const li = el(
    "li",
    { className: "session" },
    thumb,
    el(
      "div",
      { className: "session-body" },
      title,
      el(
        "dl",
        { className: "fields" },
        ...field("scrapeUrl", "Scraped"),
        ...field("currentUrl", "Now on"),
        ...field("age", "Age"),
        ...field("idle", "Idle"),
        ...field("languages", "Used"),
        ...field("state", "State"),
        ...field("calls", "Calls"),
        ...field("credits", "Credits"),
      ),
      el("div", { className: "row" }, watch, takeOver, stop),
    ),
  );
  li.dataset.id = s.id;
  return { el: li, fields, labels, thumb, title, watch, takeOver, stop, frameSrc: "" };
}

function updateRow(row, s) {
  const ended = s.status === "destroyed";
  row.el.classList.toggle("ended", ended);
  row.title.textContent = `${s.kind === "browser" ? "Browser" : "Interact"} session ${s.id.slice(0, 8)}`;
  row.fields.scrapeUrl.textContent = s.scrapeUrl ?? "(standalone browser)";
  // An ended session shows what it did, as the record kept it: where it was last, how long it
  // lived, what it used and ran, and what it was billed.
  row.labels.currentUrl.textContent = ended ? "Last on" : "Now on";
  row.fields.currentUrl.textContent = (ended ? s.lastUrl : s.currentUrl) ?? "—";
  row.labels.age.textContent = ended ? "Lasted" : "Age";
  row.fields.age.textContent = duration(ended ? (s.durationMs ?? s.ageMs) : s.ageMs);
  row.fields.idle.textContent = ended ? "—" : s.busy ? "running a call" : duration(s.idleMs);
  row.fields.languages.textContent = s.languages.length
    ? s.languages.join(", ")
    : ended
      ? "nothing"
      : "nothing yet";
  row.fields.calls.textContent = String(s.calls);
  row.labels.credits.hidden = row.fields.credits.hidden = !ended;
  row.fields.credits.textContent = creditsText(s.creditsBilled);
  row.fields.state.textContent = ended
    ? `ended: ${reasonText(s.endReason)}`
    : s.liveViewUrl
      ? s.status
      : `${s.status} (held by another server)`;
  setLink(row.watch, ended ? null : s.liveViewUrl);
  setLink(row.takeOver, ended ? null : s.interactiveLiveViewUrl);
  row.stop.hidden = ended;
  setThumbnail(row, ended || !s.liveViewUrl ? "" : `${s.liveViewUrl}?${THUMBNAIL}`, s);
}

function setLink(a, href) {
  a.hidden = !href;
  if (href) a.href = href;
}

function setThumbnail(row, src, s) {
  if (row.frameSrc === src) return;
  row.frameSrc = src;
  row.thumb.replaceChildren(
    src
      ? el("iframe", {
          src,
          title: `Live thumbnail of session ${s.id.slice(0, 8)}`,
          tabIndex: -1,
          loading: "lazy",
        })
      : el("span", { className: "muted", textContent: "no picture" }),
  );
}

async function stopSession(s, button) {
  button.disabled = true;
  const path = s.kind === "browser" ? `/v2/browser/${s.id}` : `/v2/scrape/${s.scrapeId}/interact`;
  try {
    const answer = await api("DELETE", path);
    if (answer.status !== 200) notify(errorText(answer));
  } catch {
    notify("The server cannot be reached.");
  } finally {
    button.disabled = false;
    await refresh();
  }
}

const REASONS = {
  stopped: "stopped by a client",
  ttl: "reached its time limit",
  idle: "idle too long",
  browser_crashed: "its browser crashed",
  shutdown: "the server shut down",
  server_restarted: "the server restarted",
  node_lost: "its server stopped answering",
};

function reasonText(reason) {
  return REASONS[reason] ?? reason ?? "unknown";
}

function creditsText(credits) {
  if (credits === null || credits === undefined) return "not settled yet";
  return `${credits} ${credits === 1 ? "credit" : "credits"}`;
}

/** 65_000 → "1m 05s". */
export function duration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}
