/** How one viewer wants the stream: JPEG quality, frames per second, and largest frame width. */
export interface StreamSettings {
  quality: number;
  fps: number;
  maxWidth: number;
}

export const DEFAULT_SETTINGS: Readonly<StreamSettings> = Object.freeze({
  quality: 60,
  fps: 10,
  maxWidth: 1280,
});

const LIMITS = {
  quality: [1, 100],
  fps: [1, 30],
  maxWidth: [160, 3840],
} as const satisfies Record<keyof StreamSettings, readonly [number, number]>;

/**
 * Reads `?quality=1-100&fps=1-30&maxWidth=160-3840` from a viewer's URL. Out-of-range values are
 * clamped and anything unreadable falls back to the default, so a hand-edited URL still works.
 */
export function parseSettings(params: URLSearchParams): StreamSettings {
  const read = (name: keyof StreamSettings): number => {
    const raw = params.get(name);
    const n = raw === null || raw.trim() === "" ? NaN : Number(raw);
    if (!Number.isFinite(n)) return DEFAULT_SETTINGS[name];
    const [min, max] = LIMITS[name];
    return Math.min(max, Math.max(min, Math.round(n)));
  };
  return { quality: read("quality"), fps: read("fps"), maxWidth: read("maxWidth") };
}

/**
 * The settings of the one shared screencast: the most any current viewer asked for. A viewer
 * that asked for less still gets frames no faster than its own fps (see Viewer).
 */
export function combineSettings(all: Iterable<StreamSettings>): StreamSettings | undefined {
  let out: StreamSettings | undefined;
  for (const s of all) {
    out = out
      ? {
          quality: Math.max(out.quality, s.quality),
          fps: Math.max(out.fps, s.fps),
          maxWidth: Math.max(out.maxWidth, s.maxWidth),
        }
      : { ...s };
  }
  return out;
}

export function sameSettings(a: StreamSettings | undefined, b: StreamSettings | undefined) {
  return a?.quality === b?.quality && a?.fps === b?.fps && a?.maxWidth === b?.maxWidth;
}
