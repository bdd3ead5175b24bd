/* global document, location */
// An ended session's recording, page by page: Firecrawl's replay routes, played with hls.js
// (pinned, served by this server at dashboard/vendor/hls/).

import { api, apiKey, errorText } from "./api.js";

let Hls;

/** Shows the recording of session `id` in `container`: a player and its pages. */
export async function showRecording(id, container, notify) {
  const answer = await api("GET", `/v2/browser/${id}/replay`);
  if (answer.status !== 200) {
    notify(errorText(answer));
    return;
  }
  Hls ??= (await import("./vendor/hls/hls.min.mjs")).default;
  const video = document.createElement("video");
  Object.assign(video, { controls: true, muted: true, playsInline: true, className: "replay" });
  video.setAttribute("aria-label", `Recording of session ${id.slice(0, 8)}`);
  const pages = document.createElement("ol");
  pages.className = "replay-pages";
  let player;
  const play = (page, button) => {
    for (const b of pages.querySelectorAll("button")) b.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-pressed", "true");
    player?.destroy();
    player = attach(video, page.url);
  };
  answer.body.pages.forEach((page, i) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "quiet";
    // The page's address comes from the page: text only.
    button.textContent = `Page ${i + 1}: ${page.pageUrl || "(blank)"}`;
    button.addEventListener("click", () => play(page, button));
    const item = document.createElement("li");
    item.append(button);
    pages.append(item);
  });
  container.replaceChildren(video, pages);
  container.hidden = false;
  const first = pages.querySelector("button");
  if (first) play(answer.body.pages[0], first);
}

/** Plays one page's HLS playlist; its request carries the key, the segments need none. */
function attach(video, playlistUrl) {
  const key = apiKey();
  const player = new Hls({
    enableWorker: false,
    xhrSetup: (xhr, url) => {
      if (key && new URL(url, location.href).pathname.includes("/replay/")) {
        xhr.setRequestHeader("authorization", `Bearer ${key}`);
      }
    },
  });
  player.loadSource(new URL(playlistUrl, location.href).href);
  player.attachMedia(video);
  return player;
}
