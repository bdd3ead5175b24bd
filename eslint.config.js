// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Domain folders must not reach into the HTTP layer or the app wiring. */
const DOMAIN = [
  "errors",
  "browser",
  "scrape",
  "sessions",
  "sandbox",
  "cdp",
  "liveview",
  "store",
  "config",
  "files",
  "isolation",
  "network",
  "health",
  "processes",
  "deadline",
];

export default tseslint.config(
  { ignores: ["node_modules/**", "data/**"] },
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
              group: ["**/app.js", "**/server.js", "**/main.js"],
              message: "Domain code must not import the app wiring.",
            },
          ],
        },
      ],
    },
  })),
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
