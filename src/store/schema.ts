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
  status: "active" | "destroyed";
  created_at: number;
  destroyed_at: number | null;
  destroy_reason: string | null;
}

export interface Database {
  scrapes: ScrapesTable;
  scrape_cache: ScrapeCacheTable;
  sessions: SessionsTable;
}
