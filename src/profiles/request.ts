import { z } from "zod";
import { hasControlCharacters } from "../text/printable.js";

/**
 * A profile's name: what a team calls it, shown back to the team and to the operator's terminal
 * (`npm run admin -- profile list`). Control characters are refused so no name can drive a
 * terminal (escape sequences) or forge lines of a listing.
 */
export const profileNameSchema = z
  .string()
  .min(1)
  .max(128)
  .refine((name) => !hasControlCharacters(name), {
    message: "must not contain control characters (escape sequences, line breaks, tabs)",
  });

/** A named, persistent browser state (Firecrawl's profiles), as a scrape or a session asks for it. */
export const profileSchema = z
  .object({
    name: profileNameSchema,
    saveChanges: z.boolean().default(true),
  })
  .strict();
