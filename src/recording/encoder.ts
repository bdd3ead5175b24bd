import { mkdirSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { Writable } from "node:stream";
import { launchProcess, type LaunchedProcess } from "../processes/launcher.js";
import type { Logger } from "../log/logger.js";

/** How recordings are encoded: a bounded frame rate and size, and the HLS segment length. */
export interface EncoderSettings {
  /** Frames written per second at most; a page that repaints faster loses the frames between. */
  fps: number;
  /** Frames are scaled down (never up) to fit this box, keeping their shape. */
  maxWidth: number;
  maxHeight: number;
  /** Target length of an HLS segment; the last frame is repeated this often on a still page. */
  segmentSeconds: number;
}

export const ENCODER_SETTINGS: Readonly<EncoderSettings> = Object.freeze({
  fps: 5,
  maxWidth: 1280,
  maxHeight: 800,
  // Each segment starts with a key frame, the bulk of a still page's bytes: 6 s (Apple's
  // recommendation) keeps a still minute to ten of them.
  segmentSeconds: 6,
});

/** What a finished page's encoding left in its folder. */
export interface EncodedPage {
  /** The playlist as ffmpeg wrote it: segment names relative to it. */
  playlist: string;
  /** The segments' file names, in playing order. */
  segments: string[];
}

/** How long a finishing encoder may take to write its last segment before it is killed. */
const FINISH_TIMEOUT_MS = 60_000;
const PLAYLIST = "index.m3u8";

/**
 * One page's video: JPEG frames in, H.264 HLS (MPEG-TS segments, a VOD playlist) out, by an
 * ffmpeg process at the lowest CPU priority. Frames go over a pipe as multipart JPEG, each
 * stamped with the time ffmpeg reads it, so a page that does not change costs nothing between
 * frames. Nothing here waits on ffmpeg: a frame that finds the pipe still full is dropped (the
 * newest is kept and written later), so a busy machine gets a choppier video, never a slower
 * session.
 */
export class PageEncoder {
  private last: Buffer | undefined;
  private pending: Buffer | undefined;
  private writtenAt = 0;
  private paceTimer: NodeJS.Timeout | undefined;
  private readonly repeatTimer: NodeJS.Timeout;
  private finishing = false;
  /** Frames written to ffmpeg, and frames dropped because it had not taken the previous yet. */
  written = 0;
  dropped = 0;

  private constructor(
    readonly dir: string,
    private readonly proc: LaunchedProcess,
    private readonly input: Writable,
    private readonly settings: EncoderSettings,
  ) {
    input.on("error", () => {});
    const segmentMs = settings.segmentSeconds * 1000;
    // HLS cuts segments at key frames, which need frames: a still page's last picture is
    // written again once a segment, and nothing more.
    this.repeatTimer = setInterval(() => {
      if (this.last && Date.now() - this.writtenAt >= segmentMs) this.write(this.last);
    }, segmentMs);
  }

  /** Starts ffmpeg writing into `dir` (made if missing). */
  static start(
    ffmpeg: string,
    dir: string,
    settings: EncoderSettings,
    log?: Pick<Logger, "info">,
  ): PageEncoder {
    // Made here, synchronously: a page's first frame starts its encoder without waiting.
    mkdirSync(dir, { recursive: true });
    const { maxWidth: w, maxHeight: h, segmentSeconds: seg } = settings;
    const proc = launchProcess({
      name: "ffmpeg",
      file: "nice",
      args: [
        "-n",
        "19",
        ffmpeg,
        ...["-hide_banner", "-nostdin", "-loglevel", "error"],
        ...["-use_wallclock_as_timestamps", "1", "-f", "mpjpeg", "-i", "pipe:3"],
        "-vf",
        `scale='min(${w},iw)':'min(${h},ih)':force_original_aspect_ratio=decrease,` +
          "pad=ceil(iw/2)*2:ceil(ih/2)*2,format=yuv420p",
        // Frames keep the times they came at: nothing is made up between them.
        ...["-vsync", "vfr", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "30"],
        ...["-threads", "1", "-force_key_frames", `expr:gte(t,n_forced*${seg})`],
        ...["-f", "hls", "-hls_time", String(seg), "-hls_list_size", "0"],
        ...["-hls_playlist_type", "vod", "-hls_segment_type", "mpegts"],
        ...["-hls_segment_filename", path.join(dir, "%d.ts"), path.join(dir, PLAYLIST)],
      ],
      env: { PATH: "/usr/local/bin:/usr/bin:/bin" },
      extraFds: ["pipe"],
      log,
    });
    return new PageEncoder(dir, proc, proc.pipe(3), settings);
  }

  /** Takes the newest frame of the page; returns at once whatever ffmpeg is doing. */
  push(jpeg: Buffer): void {
    if (this.finishing) return;
    this.last = jpeg;
    if (this.paceTimer) {
      this.pending = jpeg;
      return;
    }
    const wait = this.writtenAt + 1000 / this.settings.fps - Date.now();
    if (wait <= 0) return this.write(jpeg);
    this.pending = jpeg;
    this.paceTimer = setTimeout(() => {
      this.paceTimer = undefined;
      const frame = this.pending;
      this.pending = undefined;
      if (frame) this.write(frame);
    }, wait);
  }

  /**
   * Ends the page: its last picture is written once more, so it lasts until now, and ffmpeg
   * writes the rest. Undefined when nothing came out (no frame, or ffmpeg failed).
   */
  async finish(): Promise<EncodedPage | undefined> {
    if (this.finishing) return undefined;
    this.finishing = true;
    this.stopTimers();
    const hadFrames = this.last !== undefined;
    if (this.last) this.write(this.last, true);
    this.input.end();
    const timeout = setTimeout(() => void this.proc.kill(), FINISH_TIMEOUT_MS);
    const status = await this.proc.exited;
    clearTimeout(timeout);
    if (!hadFrames || status.code !== 0) return undefined;
    const playlist = await fs.readFile(path.join(this.dir, PLAYLIST), "utf8").catch(() => "");
    const segments = playlist
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    return playlist.includes("#EXT-X-ENDLIST") && segments.length > 0
      ? { playlist, segments }
      : undefined;
  }

  /** Stops ffmpeg at once, keeping nothing (the server is going away). */
  async abort(): Promise<void> {
    this.finishing = true;
    this.stopTimers();
    this.input.destroy();
    await this.proc.kill();
  }

  private stopTimers(): void {
    clearTimeout(this.paceTimer);
    clearInterval(this.repeatTimer);
    this.paceTimer = undefined;
    this.pending = undefined;
  }

  private write(jpeg: Buffer, evenIfFull = false): void {
    if (!this.proc.alive) return;
    if (this.input.writableNeedDrain && !evenIfFull) {
      this.dropped++;
      return;
    }
    this.writtenAt = Date.now();
    this.written++;
    const head = `--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`;
    this.input.write(Buffer.concat([Buffer.from(head), jpeg, Buffer.from("\r\n")]));
  }
}
