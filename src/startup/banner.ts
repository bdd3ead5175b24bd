import type { Services } from "../services.js";

const LANGUAGES = ["node", "python", "bash"] as const;

/**
 * The start line an operator reads first: where the server answers, where the dashboard is,
 * and what it runs with (authentication, sandbox, Chromium build, database, languages, prompts).
 */
export function startBanner(services: Services, url: string): { msg: string; fields: object } {
  const { config } = services;
  const chromium = services.health.chromium() ?? "none found (see /health)";
  const languages = LANGUAGES.map((l) => {
    const why = services.languageUnavailable(l);
    return why ? `${l} (unavailable: ${why})` : l;
  });
  const agentOff = services.agent.unavailable();
  const prompts =
    !agentOff && config.model ? `${config.model.kind} ${config.model.model}` : `off (${agentOff})`;
  const fields = {
    url,
    dashboard: `${url}/dashboard`,
    authentication: config.useDbAuthentication,
    sandbox: services.sandbox,
    chromium,
    database: services.store.dialect,
    dataDir: config.dataDir,
    languages,
    prompts,
  };
  const msg = [
    `ready on ${url}`,
    `dashboard ${fields.dashboard}`,
    `authentication ${config.useDbAuthentication ? "on (API keys required)" : "off"}`,
    `sandbox ${services.sandbox}`,
    `Chromium ${chromium}`,
    `database ${services.store.dialect} (data in ${config.dataDir})`,
    `languages ${languages.join(", ")}`,
    `prompts ${prompts}`,
  ].join(" · ");
  return { msg, fields };
}
