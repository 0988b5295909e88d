import { MAX_TIMER_DELAY_MS, checkNumber, readOptions } from "../core/internal.js";
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

/**
 * {@link ServerOptions}, checked, with their defaults.
 *
 * @internal
 */
export interface CheckedServerOptions {
  readonly port: number | undefined;
  readonly logTailBytes: number;
  readonly startTimeoutMs: number;
}

/**
 * The option names of {@link ServerOptions}.
 *
 * @internal
 */
export const SERVER_OPTION_KEYS = ["port", "logTailBytes", "startTimeoutMs"] as const;

/**
 * Checks `options` of `fn` (a TypeError or RangeError naming `fn` and the option): refuses a
 * key that is neither one of {@link ServerOptions}' nor in `extraKeys` (the caller's own).
 *
 * @internal
 */
export function checkServerOptions(
  fn: string,
  options: unknown,
  extraKeys: readonly string[] = [],
): CheckedServerOptions {
  const o = readOptions(options as ServerOptions | undefined, fn, [
    ...SERVER_OPTION_KEYS,
    ...(extraKeys as (keyof ServerOptions)[]),
  ]);
  const port = o.raw("port");
  return {
    port: port === undefined ? undefined : checkNumber(port, fn, "options.port", PORT_RANGE),
    logTailBytes: o.number("logTailBytes", DEFAULT_LOG_TAIL_BYTES, BYTES_RANGE, "bytes"),
    startTimeoutMs: o.ms("startTimeoutMs", DEFAULT_START_TIMEOUT_MS, START_TIMEOUT_RANGE),
  };
}

const PORT_RANGE = { min: 1, max: 65_535, integer: true };
const BYTES_RANGE = { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true };
const START_TIMEOUT_RANGE = { min: 1, max: MAX_TIMER_DELAY_MS };
