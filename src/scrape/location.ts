/**
 * Turns Firecrawl's `location` ({country, languages}) into browser emulation: a locale, a time
 * zone and an Accept-Language header. Languages and zones come from the ICU data built into Node,
 * so every ISO country works; the table below only picks the zone people expect for countries
 * that span several (ICU lists those alphabetically, which would make the US "America/Adak").
 */
const MAIN_ZONE: Record<string, string> = {
  AR: "America/Argentina/Buenos_Aires",
  AU: "Australia/Sydney",
  BR: "America/Sao_Paulo",
  CA: "America/Toronto",
  CD: "Africa/Kinshasa",
  CL: "America/Santiago",
  CN: "Asia/Shanghai",
  EC: "America/Guayaquil",
  ES: "Europe/Madrid",
  ID: "Asia/Jakarta",
  IN: "Asia/Kolkata",
  KZ: "Asia/Almaty",
  MN: "Asia/Ulaanbaatar",
  MX: "America/Mexico_City",
  MY: "Asia/Kuala_Lumpur",
  NZ: "Pacific/Auckland",
  PT: "Europe/Lisbon",
  RU: "Europe/Moscow",
  UA: "Europe/Kiev",
  US: "America/New_York",
  UZ: "Asia/Tashkent",
};

/** Languages the country's web is mostly read in when ICU's likely language would surprise. */
const MAIN_LANGUAGE: Record<string, string> = { IN: "en", PK: "en", NG: "en", PH: "en" };

export interface LocationEmulation {
  locale: string;
  timezoneId: string;
  /** navigator.languages, and Accept-Language once Chromium adds the q-values. */
  languages: string[];
}

function regionTimeZones(country: string): string[] {
  const loc = new Intl.Locale(`und-${country}`) as Intl.Locale & {
    timeZones?: string[];
    getTimeZones?: () => string[];
  };
  return loc.getTimeZones?.() ?? loc.timeZones ?? [];
}

/** True when ICU knows the country (an ISO 3166-1 alpha-2 code with at least one time zone). */
export function isKnownCountry(country: string): boolean {
  try {
    return regionTimeZones(country.toUpperCase()).length > 0;
  } catch {
    return false;
  }
}

/** The emulation for a validated country and optional language list (first one wins). */
export function locationEmulation(country: string, languages?: string[]): LocationEmulation {
  const cc = country.toUpperCase();
  const zones = regionTimeZones(cc);
  const timezoneId = MAIN_ZONE[cc] ?? zones[0] ?? "UTC";
  const likely = MAIN_LANGUAGE[cc] ?? new Intl.Locale(`und-${cc}`).maximize().language;
  const langs = languages && languages.length > 0 ? languages : [`${likely}-${cc}`];
  return { locale: langs[0]!, timezoneId, languages: withBaseLanguages(langs) };
}

/** Each language followed by its base language, as Chrome sends them: de-DE, de, en-GB, en. */
function withBaseLanguages(langs: string[]): string[] {
  const seen: string[] = [];
  for (const l of langs) {
    for (const tag of [l, l.split("-")[0]!]) {
      if (!seen.some((s) => s.toLowerCase() === tag.toLowerCase())) seen.push(tag);
    }
  }
  return seen;
}
