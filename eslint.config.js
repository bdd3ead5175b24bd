// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * The intended dependency graph: which folders under src/ each folder may import. Imports flow
 * downward (http -> services -> sessions -> sandbox/chromium/scrape -> cdp/store/network/config);
 * anything not listed is a lint error. The README's layout section draws the same graph.
 */
const DEPS = {
  config: [],
  errors: [],
  // The one Logger type; every folder may import it (EVERYONE below).
  log: [],
  // Strings made safe to show: control characters refused or escaped.
  text: [],
  auth: [],
  urls: [],
  isolation: ["processes"],
  network: [],
  files: ["store"],
  processes: [],
  // The API document: builds from routes' declarations; schemas import only its input-schema.
  openapi: ["errors"],
  deadline: ["errors"],
  // The CDP wire: Chromium's pipe, its multiplexer and their bounds, and the cdpUrl endpoint.
  cdp: ["errors", "urls"],
  "page-state": ["chromium", "cdp"],
  store: ["page-state"],
  chromium: ["cdp", "isolation", "network", "processes", "deadline"],
  sandbox: ["errors", "isolation", "processes", "deadline"],
  scrape: [
    "chromium",
    "profiles",
    "page-state",
    "config",
    "errors",
    "files",
    "network",
    "store",
    "deadline",
    "urls",
    "openapi",
  ],
  profiles: ["errors", "store", "text"],
  sessions: [
    "auth",
    "health",
    "profiles",
    "chromium",
    "cdp",
    "page-state",
    "config",
    "errors",
    "sandbox",
    "scrape",
    "store",
    "deadline",
  ],
  liveview: ["auth", "urls"],
  // Session recordings: the live view's frames, encoded by ffmpeg, kept in the file store.
  recording: ["files", "liveview", "processes", "store"],
  health: ["store"],
  agent: ["chromium", "config", "deadline"],
  teams: ["auth", "errors", "sessions", "store"],
  admin: ["config", "store", "teams", "text"],
  metrics: [],
  interact: ["agent", "deadline", "errors", "openapi", "sessions", "sandbox", "teams", "urls"],
  "browser-api": [
    "errors",
    "interact",
    "openapi",
    "profiles",
    "recording",
    "scrape",
    "sessions",
    "store",
    "teams",
    "urls",
  ],
  dashboard: ["sessions", "store", "urls"],
  // Files sessions' browsers download: watched, kept in the file store, listed, swept.
  downloads: ["chromium", "files", "sessions", "store", "text", "urls"],
  // Many nodes: membership and loss (the table of nodes), where a session is, the nodes' proof.
  cluster: ["auth", "config", "errors", "sessions", "store"],
};
const FOLDERS = Object.keys(DEPS);
/** Leaves any folder may import without listing them: they import nothing of ours. */
const EVERYONE = ["log"];
/** Domain folders: everything but the HTTP layer. */
const DOMAIN = FOLDERS;

/** Import patterns that reach folder `dir` from anywhere below src/. */
const reaching = (dir) =>
  ["../", "../../", "../../../", "../../../../"].map((up) => `${up}${dir}/*`);

export default tseslint.config(
  { ignores: ["node_modules/**", "data/**", ".venv/**", ".venv-tests/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "no-empty": ["error", { allowEmptyCatch: true }],
    },
  },
  {
    files: ["test/**/*.ts", "bench/**/*.ts", "src/**/*.test.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  ...DOMAIN.map((dir) => ({
    files: [`src/${dir}/**/*.ts`, `src/${dir}/**/*.mjs`],
    // A test beside the code may set up whatever it needs.
    ignores: ["src/**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/http/**", "**/http"],
              message: "Domain code must not import the HTTP layer.",
            },
            {
              group: ["**/app.js", "**/server.js", "**/main.js", "**/services.js"],
              message: "Domain code must not import the app wiring.",
            },
            {
              group: FOLDERS.filter(
                (d) => d !== dir && !DEPS[dir].includes(d) && !EVERYONE.includes(d),
              ).flatMap(reaching),
              message: `src/${dir} may import only: ${[...DEPS[dir], ...EVERYONE.filter((d) => d !== dir)].join(", ") || "nothing else in src"} (see DEPS in eslint.config.js).`,
            },
          ],
        },
      ],
    },
  })),
  {
    files: ["src/http/routes/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["./*"],
              message: "A route must not import another route; share code below http/.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["src/**/*.ts"],
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read settings through config/ only." },
      ],
    },
  },
  {
    files: ["src/config/**/*.ts", "src/main.ts"],
    rules: { "no-restricted-properties": "off" },
  },
);
