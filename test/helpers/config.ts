import { loadConfig, type Config, type EnvVariable } from "../../src/config/config.js";

/** A Config for tests: defaults plus overrides, without reading process.env. */
export function testConfig(overrides: Partial<Record<EnvVariable, string>>): Config {
  return loadConfig(overrides);
}
