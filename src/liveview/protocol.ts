import { z } from "zod";

/*
 * The live-view wire format (documented for clients in README.md).
 *
 * Server -> viewer:
 *   binary  one frame: 4-byte big-endian header length N, N bytes of JSON header
 *           ({ seq, ts }), then the JPEG image.
 *   text    JSON: { type: "status", state } or { type: "meta", url, title, viewport }.
 * Viewer -> server (interactive live view only; ignored otherwise): text JSON InputMessage.
 */

/** What a viewer may do: watch, or also drive the page. */
export type LiveViewMode = "view" | "control";

export type StatusState = "connected" | "ended";

export interface StatusMessage {
  type: "status";
  state: StatusState;
}

/** What the viewer needs besides pixels; viewport is the page's CSS size, null before a frame. */
export interface MetaMessage {
  type: "meta";
  url: string;
  title: string;
  viewport: { width: number; height: number } | null;
}

export type ServerMessage = StatusMessage | MetaMessage;

export interface FrameHeader {
  /** Increases by one per frame of a session. */
  seq: number;
  /** Server clock (ms since epoch) when the frame arrived from Chromium. */
  ts: number;
}

/** Packs a frame the way viewers read it; built once and sent to every viewer as is. */
export function encodeFrame(header: FrameHeader, jpeg: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(json.length);
  return Buffer.concat([len, json, jpeg]);
}

/** Reads a frame back (tests, benchmarks, Node clients). */
export function decodeFrame(data: Buffer): { header: FrameHeader; jpeg: Buffer } {
  const n = data.readUInt32BE(0);
  return {
    header: JSON.parse(data.subarray(4, 4 + n).toString()) as FrameHeader,
    jpeg: data.subarray(4 + n),
  };
}

// Positions are fractions of the displayed frame (0..1), so the viewer's size does not matter;
// the server scales them to the page's CSS viewport.
const fraction = z.number().finite().min(0).max(1);
const modifiers = z.number().int().min(0).max(15).default(0);
const button = z.enum(["none", "left", "middle", "right"]);

const mouse = z.object({
  type: z.literal("mouse"),
  action: z.enum(["move", "down", "up"]),
  x: fraction,
  y: fraction,
  button: button.default("none"),
  /** Buttons held, as in MouseEvent.buttons: 1 left, 2 right, 4 middle. */
  buttons: z.number().int().min(0).max(31).default(0),
  clickCount: z.number().int().min(0).max(3).default(1),
  modifiers,
});

const wheel = z.object({
  type: z.literal("wheel"),
  x: fraction,
  y: fraction,
  dx: z.number().finite().min(-10_000).max(10_000),
  dy: z.number().finite().min(-10_000).max(10_000),
  modifiers,
});

const key = z.object({
  type: z.literal("key"),
  action: z.enum(["down", "up"]),
  /** KeyboardEvent.key and .code from the viewer's browser. */
  key: z.string().min(1).max(32),
  code: z.string().max(32).default(""),
  modifiers,
  repeat: z.boolean().default(false),
});

/** Largest paste accepted; bigger ones are refused rather than cut. */
export const MAX_PASTE_CHARS = 100_000;

const paste = z.object({
  type: z.literal("paste"),
  text: z.string().min(1).max(MAX_PASTE_CHARS),
});

const inputSchema = z.discriminatedUnion("type", [mouse, wheel, key, paste]);

export type InputMessage = z.infer<typeof inputSchema>;
export type MouseInput = z.infer<typeof mouse>;
export type WheelInput = z.infer<typeof wheel>;
export type KeyInput = z.infer<typeof key>;

/** Parses one message from a viewer; undefined for anything that is not valid input. */
export function parseInput(raw: string): InputMessage | undefined {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const parsed = inputSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
