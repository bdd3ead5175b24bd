/**
 * What the server's parts log through: the part of pino's logger they use, so the server's own
 * logger (Fastify's pino) is handed over as it is. A part asks only for the levels it uses
 * (`Pick<Logger, "warn">`), which lets a test hand it a one-method object.
 */
export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Drops every line: for parts built without a logger (tests, tools). */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
