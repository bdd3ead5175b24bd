/* global document, navigator, FormData */
// The playground: scrape a URL, then run code or a prompt on that scrape's live session, showing
// each answer as the API returned it, with the request as curl or as an SDK call.

import { api, asCurl, errorText, sdkClient } from "./api.js";
import { refresh as refreshSessions } from "./sessions.js";

const EXAMPLES = {
  node: "await page.title()",
  python: "print(await page.title())",
  bash: "agent-browser get title",
  prompt: "What is this page about? Answer in one sentence.",
};
const RESPONSE_FIELDS = [
  "success",
  "output",
  "result",
  "stdout",
  "stderr",
  "exitCode",
  "killed",
  "error",
  "code",
  "details",
];

const $ = (id) => document.getElementById(id);
const scrapeForm = $("scrape-form");
const interactForm = $("interact-form");
const language = $("interact-language");
const codeBox = $("interact-code");
const liveFrame = $("live-frame");
const liveControl = $("live-control");
let notify = () => {};
let scrapeId;
let lastCall; // { method, path, body, sdk }
let live; // { liveViewUrl, interactiveLiveViewUrl }

/** Wires the forms; `onError(message)` shows what failed. */
export function startPlayground(onError) {
  notify = onError;
  scrapeForm.addEventListener("submit", (e) => {
    e.preventDefault();
    void scrape();
  });
  interactForm.addEventListener("submit", (e) => {
    e.preventDefault();
    void interact();
  });
  language.addEventListener("change", showExample);
  $("stop-button").addEventListener("click", () => void stop());
  $("copy-curl").addEventListener("click", () => copy("curl"));
  $("copy-sdk").addEventListener("click", () => copy("sdk"));
  liveControl.addEventListener("change", showLiveView);
  showExample();
}

function showExample() {
  const lang = language.value;
  const known = Object.values(EXAMPLES);
  if (!codeBox.value || known.includes(codeBox.value)) codeBox.value = EXAMPLES[lang];
  $("interact-code-label").textContent = lang === "prompt" ? "Prompt" : "Code";
}

function scrapeBody() {
  const data = new FormData(scrapeForm);
  const body = { url: String(data.get("url")).trim(), formats: data.getAll("format") };
  body.onlyMainContent = data.get("onlyMainContent") === "on";
  const waitFor = Number(data.get("waitFor"));
  if (waitFor > 0) body.waitFor = waitFor;
  return body;
}

/** Runs `work` with `button` disabled and saying `label`, then puts it back. */
async function whileBusy(button, label, work) {
  const idle = button.textContent;
  button.disabled = true;
  button.textContent = label;
  try {
    await work();
  } finally {
    button.disabled = false;
    button.textContent = idle;
  }
}

async function scrape() {
  const body = scrapeBody();
  await whileBusy($("scrape-button"), "Scraping…", async () => {
    const answer = await call("POST", "/v2/scrape", body, sdkScrape(body));
    if (!answer) return;
    if (answer.status !== 200 || !answer.body.success) return notify(errorText(answer));
    showScrape(answer.body.data);
  });
}

function showScrape(doc) {
  const meta = doc.metadata ?? {};
  scrapeId = meta.scrapeId;
  $("scrape-result").hidden = false;
  $("scrape-meta").textContent = [
    `HTTP ${meta.statusCode ?? "?"}`,
    meta.title ? `“${meta.title}”` : "",
    `scrape ${scrapeId}`,
    `${meta.creditsUsed ?? 0} credit(s)`,
  ]
    .filter(Boolean)
    .join(" · ");
  const shot = $("scrape-screenshot");
  shot.hidden = !doc.screenshot;
  if (doc.screenshot) shot.src = doc.screenshot;
  const text = doc.markdown ?? doc.html ?? (doc.links ? doc.links.join("\n") : "");
  $("scrape-output").textContent = text || "(no text formats asked for)";
  $("interact-scrape-id").textContent = scrapeId;
  interactForm.hidden = !scrapeId;
  $("interact-result").hidden = true;
}

function interactBody() {
  const data = new FormData(interactForm);
  const lang = String(data.get("language"));
  const text = String(data.get("code"));
  const body = lang === "prompt" ? { prompt: text } : { code: text, language: lang };
  const timeout = Number(data.get("timeout"));
  if (timeout) body.timeout = timeout;
  return body;
}

async function interact() {
  const body = interactBody();
  await whileBusy($("interact-button"), "Running…", async () => {
    const path = `/v2/scrape/${scrapeId}/interact`;
    const sdk = `const res = await app.interact(${JSON.stringify(scrapeId)}, ${JSON.stringify(body, null, 2)});`;
    const answer = await call("POST", path, body, sdk);
    if (!answer) return;
    showResponse(answer);
    if (answer.body.liveViewUrl) {
      live = answer.body;
      showLiveView();
    }
    void refreshSessions();
  });
}

function showResponse(answer) {
  const list = $("interact-fields");
  list.replaceChildren();
  const add = (name, value) => {
    const dd = document.createElement("dd");
    const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
    dd.append(Object.assign(document.createElement("pre"), { textContent: text }));
    dd.dataset.field = name;
    list.append(Object.assign(document.createElement("dt"), { textContent: name }), dd);
  };
  add("HTTP status", answer.status);
  for (const name of RESPONSE_FIELDS) {
    if (answer.body[name] !== undefined) add(name, answer.body[name]);
  }
  $("interact-result").hidden = false;
}

function showLiveView() {
  if (!live) return;
  const url = liveControl.checked ? live.interactiveLiveViewUrl : live.liveViewUrl;
  if (liveFrame.getAttribute("src") !== url) liveFrame.src = url;
  liveFrame.hidden = false;
  $("live-empty").hidden = true;
  $("live-controls").hidden = false;
  $("live-open").href = url;
}

async function stop() {
  if (!scrapeId) return;
  const path = `/v2/scrape/${scrapeId}/interact`;
  const answer = await call(
    "DELETE",
    path,
    undefined,
    `await app.stopInteraction(${JSON.stringify(scrapeId)});`,
  );
  if (!answer) return;
  showResponse(answer);
  if (answer.status !== 200) notify(errorText(answer));
  void refreshSessions();
}

/** Makes the call, remembering it for the copy buttons; undefined when the server is unreachable. */
async function call(method, path, body, sdk) {
  lastCall = { method, path, body, sdk };
  $("last-call").hidden = false;
  $("last-call-line").textContent = `${method} ${path}`;
  $("copy-text").hidden = true;
  try {
    return await api(method, path, body);
  } catch {
    notify("The server cannot be reached.");
    return undefined;
  }
}

function sdkScrape(body) {
  const { url, ...options } = body;
  return `const doc = await app.scrape(${JSON.stringify(url)}, ${JSON.stringify(options, null, 2)});`;
}

async function copy(kind) {
  if (!lastCall) return;
  const { method, path, body, sdk } = lastCall;
  const text = kind === "curl" ? asCurl(method, path, body) : `${sdkClient()}\n${sdk}`;
  const box = $("copy-text");
  box.textContent = text;
  box.hidden = false;
  try {
    await navigator.clipboard.writeText(text);
    box.dataset.copied = "true";
  } catch {
    // Clipboard access needs a secure context; the text stays shown to select by hand.
    box.dataset.copied = "false";
  }
}
