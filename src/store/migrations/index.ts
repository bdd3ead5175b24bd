import type { Migration } from "kysely";
import { m001_init } from "./001-init.js";

/** Numbered migrations, applied in name order. Never edit one that has shipped; add the next. */
export const migrations: Record<string, Migration> = {
  "001-init": m001_init,
};
