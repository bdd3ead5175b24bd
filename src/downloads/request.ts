import { z } from "zod";

/** One file of a session's listing. */
export const downloadListingSchema = z.object({
  name: z.string().describe("The name the page gave the file, control characters removed."),
  size: z.number().int().describe("Bytes: as kept, or (failed) as far as it got."),
  mimeType: z.string().describe("Its media type, from its name."),
  createdAt: z.string().describe("When it was kept or refused (ISO 8601)."),
  url: z
    .string()
    .nullable()
    .describe("Serves the bytes exactly as downloaded (no API key needed); null when it failed."),
  state: z
    .enum(["completed", "failed"])
    .describe("failed: past the session's SESSION_DOWNLOADS_MB, cancelled in the browser."),
  error: z.string().optional().describe("Why it failed."),
});

/** GET {base}/{id}/files and /v2/scrape/{jobId}/interact/files. */
export const downloadListSchema = z.object({
  success: z.literal(true),
  files: z.array(downloadListingSchema).describe("Oldest first."),
});

/** The random id in a download's URL. */
export const downloadIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{22}$/, "Not a download id.")
  .describe("The random id in the URL a files listing returned.");
