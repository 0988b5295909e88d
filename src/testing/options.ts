import { describeValue, MAX_TIMER_DELAY_MS } from "../core/internal.js";
import { DEFAULT_LOG_TAIL_BYTES } from "./log-tail.js";

/** The default of {@link ServerOptions.startTimeoutMs}. */
export const DEFAULT_START_TIMEOUT_MS = 30_000;

/**
 * Options of {@link startPostgres} and {@link startRedis}.
 *
 * @example
 * ```ts
 * await using redis = await startRedis({ port: 6390, logTailBytes: 64 * 1024 });
 * ```
 */
export interface ServerOptions {
  /**
   * The TCP port on 127.0.0.1, from 1 to 65535. Default: a free port the system picks (and
   * another one if something takes it before the server binds it). A port that is taken makes
   * the call reject with an error that says so.
   */
  readonly port?: number;
  /**
   * How many bytes of the server's latest output (stdout and stderr) are kept, for `log()` and
   * for the error when the server fails to start. Default {@link DEFAULT_LOG_TAIL_BYTES}
   * (16 KiB); 0 keeps nothing. Older output is dropped: memory stays bounded however long the
   * server runs.
   */
  readonly logTailBytes?: number;
  /**
   * How long the server may take to become ready before the call rejects (and the server is
   * killed), in ms. Default {@link DEFAULT_START_TIMEOUT_MS} (30 s).
   */
  readonly startTimeoutMs?: number;
}

/** {@link ServerOptions}, checked, with their defaults. */
export interface CheckedServerOptions {
  readonly port: number | undefined;
  readonly logTailBytes: number;
  readonly startTimeoutMs: number;
}

/** Throws a TypeError or RangeError naming `fn` and the option for anything but valid options. */
export function checkServerOptions(fn: string, options: unknown): CheckedServerOptions {
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`${fn}: options must be an object, got ${describeValue(options)}`);
  }
  const { port, logTailBytes, startTimeoutMs } = options as ServerOptions;
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
    throw new RangeError(
      `${fn}: options.port must be an integer from 1 to 65535 (or left out for a free port), ` +
        `got ${describeValue(port)}`,
    );
  }
  const tail = logTailBytes ?? DEFAULT_LOG_TAIL_BYTES;
  if (!Number.isSafeInteger(tail) || tail < 0) {
    throw new RangeError(
      `${fn}: options.logTailBytes must be a whole number of bytes, 0 or more, ` +
        `got ${describeValue(logTailBytes)}`,
    );
  }
  const timeout = startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  if (typeof timeout !== "number" || !(timeout > 0 && timeout <= MAX_TIMER_DELAY_MS)) {
    throw new RangeError(
      `${fn}: options.startTimeoutMs must be a number of milliseconds above 0 and at most ` +
        `${MAX_TIMER_DELAY_MS}, got ${describeValue(startTimeoutMs)}`,
    );
  }
  return { port, logTailBytes: tail, startTimeoutMs: timeout };
}
