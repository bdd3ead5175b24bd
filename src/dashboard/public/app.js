/* global document, location, addEventListener, setTimeout, clearTimeout */
// The dashboard's entry: tabs, the API key form, notices; the sessions list and the playground
// live in their own modules.

import { apiKey, onKeyNeeded, setApiKey } from "./api.js";
import { refresh, startSessionList } from "./sessions.js";
import { startPlayground } from "./playground.js";

const notice = document.getElementById("notice");
const keyForm = document.getElementById("key-form");
const keyInput = document.getElementById("api-key");
let noticeTimer;

function notify(message) {
  notice.textContent = message;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (notice.hidden = true), 8000);
}

function showTab() {
  const tab = location.hash === "#playground" ? "playground" : "sessions";
  for (const panel of document.querySelectorAll("[data-panel]")) {
    panel.hidden = panel.dataset.panel !== tab;
  }
  for (const link of document.querySelectorAll("[data-tab]")) {
    if (link.dataset.tab === tab) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function wireKeyForm() {
  keyForm.hidden = !apiKey();
  keyInput.value = apiKey();
  onKeyNeeded((message) => {
    keyForm.hidden = false;
    notify(message);
    keyInput.focus();
  });
  keyForm.addEventListener("submit", (e) => {
    e.preventDefault();
    setApiKey(keyInput.value.trim());
    notice.hidden = true;
    void refresh();
  });
  document.getElementById("forget-key").addEventListener("click", () => {
    setApiKey("");
    keyInput.value = "";
    void refresh();
  });
}

addEventListener("hashchange", showTab);
showTab();
wireKeyForm();
startSessionList(notify);
startPlayground(notify);
