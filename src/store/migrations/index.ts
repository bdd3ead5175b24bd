import type { Migration } from "kysely";
import { m001_init } from "./001-init.js";
import { m002_session_registry } from "./002-session-registry.js";
import { m003_teams } from "./003-teams.js";
import { m004_browser_sessions } from "./004-browser-sessions.js";
import { m005_profiles } from "./005-profiles.js";
import { m006_scrape_profiles } from "./006-scrape-profiles.js";
import { m007_scrape_charges } from "./007-scrape-charges.js";
import { m008_cluster } from "./008-cluster.js";
import { m009_files } from "./009-files.js";
import { m010_usage } from "./010-usage.js";
import { m011_session_history } from "./011-session-history.js";
import { m012_downloads } from "./012-downloads.js";
import { m013_recordings } from "./013-recordings.js";

/** Numbered migrations, applied in name order. Never edit one that has shipped; add the next. */
export const migrations: Record<string, Migration> = {
  "001-init": m001_init,
  "002-session-registry": m002_session_registry,
  "003-teams": m003_teams,
  "004-browser-sessions": m004_browser_sessions,
  "005-profiles": m005_profiles,
  "006-scrape-profiles": m006_scrape_profiles,
  "007-scrape-charges": m007_scrape_charges,
  "008-cluster": m008_cluster,
  "009-files": m009_files,
  "010-usage": m010_usage,
  "011-session-history": m011_session_history,
  "012-downloads": m012_downloads,
  "013-recordings": m013_recordings,
};
