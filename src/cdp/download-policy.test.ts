import { expect, test } from "vitest";
import { downloadCommand, keptDownloads } from "./download-policy.js";

const DIR = "/tmp/downloads";

test("a client's download folder and naming are replaced; a refusal stays one", () => {
  expect(
    downloadCommand(
      "Browser.setDownloadBehavior",
      { behavior: "allow", downloadPath: "/etc", browserContextId: "C1", eventsEnabled: true },
      DIR,
    ),
  ).toEqual({
    forward: {
      behavior: "allowAndName",
      downloadPath: DIR,
      browserContextId: "C1",
      eventsEnabled: true,
    },
  });
  expect(downloadCommand("Browser.setDownloadBehavior", { behavior: "default" }, DIR)).toEqual({
    forward: { behavior: "allowAndName", downloadPath: DIR },
  });
  const deny = downloadCommand(
    "Browser.setDownloadBehavior",
    { behavior: "deny", downloadPath: "/x" },
    DIR,
  );
  expect(JSON.parse(JSON.stringify(deny))).toEqual({ forward: { behavior: "deny" } });
});

test("the page-level setting, which keeps the page's name, is answered unless it refuses", () => {
  expect(
    downloadCommand("Page.setDownloadBehavior", { behavior: "allow", downloadPath: "/" }, DIR),
  ).toEqual({ answer: true });
  expect(downloadCommand("Page.setDownloadBehavior", { behavior: "deny" }, DIR)).toEqual({
    forward: { behavior: "deny" },
  });
});

test("what the server puts back names the folder and, when given, the context", () => {
  expect(JSON.parse(JSON.stringify(keptDownloads(DIR)))).toEqual({
    method: "Browser.setDownloadBehavior",
    params: { behavior: "allowAndName", downloadPath: DIR },
  });
  expect(keptDownloads(DIR, "C2").params).toMatchObject({ browserContextId: "C2" });
});
