/** Row shapes as stored. JSON columns hold text; repositories parse them. */
export interface ScrapesTable {
  id: string;
  team_id: string;
  url: string;
  final_url: string | null;
  status_code: number | null;
  zero_data_retention: number;
  /** JSON of ReplayContext, or null when nothing may be kept. */
  replay_context: string | null;
  created_at: number;
  /** JSON of {name, saveChanges}: the named profile the scrape ran with. */
  profile: string | null;
}

export interface ScrapeCacheTable {
  key: string;
  document: string;
  created_at: number;
}

export interface SessionsTable {
  id: string;
  scrape_id: string;
  team_id: string;
  /** "starting" from the claim until its browser is ready. */
  status: "starting" | "active" | "destroyed";
  created_at: number;
  destroyed_at: number | null;
  destroy_reason: string | null;
  /** The node whose process holds the browser. */
  node_id: string;
  /** SHA-256 of the CDP token; the token itself is never stored. */
  cdp_token_hash: string | null;
  /** SHA-256 of the read-only and the interactive live view tokens, written at activation. */
  view_token_hash: string | null;
  control_token_hash: string | null;
  /** Last time the owning node saw it alive; what a restart that finds it dead bills up to. */
  seen_at: number | null;
  used_prompt: number;
  /** "interact" (bound to a scrape) or "browser" (standalone, bound to itself). */
  kind: "interact" | "browser";
  /** This session's own lifetimes; null for rows from before they were kept. */
  ttl_ms: number | null;
  idle_ttl_ms: number | null;
  stream_web_view: number;
  /** The API key that opened it (its charge is that key's); null without authentication. */
  api_key_id: string | null;
  /** Languages that ran code in it, comma-separated, in the order first used; null for none. */
  languages: string | null;
  /** Calls run in it (code and prompts). */
  calls: number;
  /** The address its newest tab last showed, as last written. */
  last_url: string | null;
  /** What it was billed once settled (without authentication, what it would have cost). */
  credits_billed: number | null;
  /** 1 once a recording of it is kept. */
  recorded: number;
  /** Files its browser downloaded that are kept. */
  files: number;
}

export interface TeamsTable {
  id: string;
  name: string;
  /** Concurrent sessions allowed; null means the server's TEAM_MAX_SESSIONS. */
  max_sessions: number | null;
  created_at: number;
}

export interface ApiKeysTable {
  /** Public handle for listing and revoking; not a secret. */
  id: string;
  team_id: string;
  /** SHA-256 of the key; the key itself is never stored. */
  key_hash: string;
  /** The key's first characters, so an operator can tell keys apart. */
  prefix: string;
  name: string | null;
  created_at: number;
  revoked_at: number | null;
}

/** One movement of credits. A team's balance is the sum of its amounts. */
export interface LedgerTable {
  id: string;
  team_id: string;
  kind: "grant" | "reservation" | "charge" | "refund";
  /** Positive adds to the balance (grant, refund), negative takes from it. */
  amount: number;
  session_id: string | null;
  scrape_id: string | null;
  /** Unique when set: what makes a charge or refund happen at most once. */
  ref: string | null;
  note: string | null;
  at: number;
  /** On a charge: the API key that spent it; null when none was asked for (or before it was kept). */
  api_key_id: string | null;
}

export interface ProfilesTable {
  team_id: string;
  name: string;
  /** JSON of the saved browser state; null until a writer first saves. */
  state: string | null;
  created_at: number;
  updated_at: number | null;
  /** The session or scrape that may write it back, until writer_until. */
  writer_id: string | null;
  writer_until: number | null;
}

/** A scrape's charge whose outcome (a stored record, or a refund) is not written yet. */
export interface ScrapeChargesTable {
  scrape_id: string;
  team_id: string;
  /** The node that charged it: at its start, its own are known to be dead. */
  node_id: string;
  amount: number;
  at: number;
}

/** A stored screenshot or PDF (the database file store's; written once, never changed). */
export interface FilesTable {
  /** The public name: 128 random bits and the extension, as in the file's URL. */
  name: string;
  content_type: string;
  bytes: Buffer;
  created_at: number;
}

/** A recorded session (its pages are in recording_pages). */
export interface RecordingsTable {
  session_id: string;
  team_id: string;
  started_at: number;
  /** Set once its last page is stored: nothing more will come. */
  ended_at: number | null;
}

/** One page of a recording, written once its video is complete. */
export interface RecordingPagesTable {
  session_id: string;
  page_id: number;
  page_url: string;
  /** ms from the session's start */
  start_ms: number;
  end_ms: number;
  playlist: string;
  /** JSON array of the segments' file names, in playing order. */
  segments: string;
  bytes: number;
}

/** A node of the cluster, as it last published itself. */
export interface NodesTable {
  id: string;
  /** Where the other nodes reach it (its NODE_URL). */
  url: string;
  /** Its MAX_BROWSER_SESSIONS. */
  capacity: number;
  /** Sessions alive or being made there. */
  live: number;
  draining: number;
  started_at: number;
  heartbeat_at: number;
  /** When another node declared it lost; cleared when it publishes again. */
  lost_at: number | null;
}

/** A file a session's browser downloaded (or failed to, past its quota). */
export interface DownloadsTable {
  id: string;
  session_id: string;
  session_key: string;
  team_id: string;
  name: string;
  mime_type: string;
  size: number;
  state: string;
  file: string | null;
  created_at: number;
  expires_at: number;
}

export interface Database {
  scrapes: ScrapesTable;
  scrape_cache: ScrapeCacheTable;
  sessions: SessionsTable;
  teams: TeamsTable;
  api_keys: ApiKeysTable;
  ledger: LedgerTable;
  profiles: ProfilesTable;
  scrape_charges: ScrapeChargesTable;
  files: FilesTable;
  nodes: NodesTable;
  downloads: DownloadsTable;
  recordings: RecordingsTable;
  recording_pages: RecordingPagesTable;
}
