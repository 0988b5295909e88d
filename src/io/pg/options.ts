import { type OptionsReader, readOptions } from "../../core/internal.js";

/** How a query is stopped and guarded. Every field has a default and a validated range. */
export interface PgOptions {
  /**
   * After the context ends, how long to wait for the backend to be confirmed idle (the
   * CancelRequest delivered and the statement's answer read) before the connection is closed
   * instead of reused. Default 1,000 ms; from 1 to 60,000.
   */
  readonly cancelTimeoutMs?: number;
  /**
   * Send `statement_timeout` (the time left plus {@link statementTimeoutSlackMs}) with each
   * statement under a deadline, in the same message, as a server-side guard for when the client
   * cannot cancel (the process died or hangs, the network broke): then nothing else bounds the
   * statement, however long its budget. It only ever tightens the session's own setting. Default
   * true.
   *
   * What it costs: the first guarded statement on a connection computes `least(session's
   * limit, budget)` on the server and reports the session's limit, which costs about 40% of a
   * `SELECT 1`; the next ones send a plain `SET LOCAL statement_timeout` (a constant
   * `set_config` in the extended protocol), a quarter of that, or no guard at all when the
   * session's limit is already tighter. The session's limit is read again after anything else is written on the
   * connection (a `client.query` of yours, a `pool.query` on the same pool), after a statement
   * whose text mentions `statement_timeout`, `set_config`, RESET, DISCARD or `pg_reload_conf`,
   * and at least once a second, so that a limit an administrator sets with a configuration
   * reload applies within a second. A function that changes the session's `statement_timeout`
   * without any of those words in the statement's text is not seen until then. To pay nothing
   * per statement, give the connections a `statement_timeout` of their own (pg's
   * `statement_timeout` option) no longer than your budgets: no guard is sent where it could not
   * tighten that.
   */
  readonly statementTimeout?: boolean;
  /**
   * Added to the time left for the server-side guard, so the client's deadline, which stops
   * the work and reports `DeadlineExceeded`, normally fires first. Default 100 ms; from 0 to
   * 60,000.
   */
  readonly statementTimeoutSlackMs?: number;
}

/** {@link PgOptions} with every default filled in. */
export type ResolvedPgOptions = Required<PgOptions>;

/** The options used when none are given. */
export const DEFAULT_PG_OPTIONS: ResolvedPgOptions = {
  cancelTimeoutMs: 1_000,
  statementTimeout: true,
  statementTimeoutSlackMs: 100,
};

/** Accepted ranges, in ms. */
export const PG_OPTION_LIMITS = {
  /** Range of {@link PgOptions.cancelTimeoutMs}. */
  cancelTimeoutMs: {
    /** The least accepted. */
    min: 1,
    /** The most accepted. */
    max: 60_000,
  },
  /** Range of {@link PgOptions.statementTimeoutSlackMs}. */
  statementTimeoutSlackMs: {
    /** The least accepted. */
    min: 0,
    /** The most accepted. */
    max: 60_000,
  },
} as const;

/**
 * @internal The option names of {@link PgOptions}: an options object of timebound's own, so any
 * other key is refused.
 */
export const PG_OPTION_KEYS: readonly (keyof PgOptions)[] = [
  "cancelTimeoutMs",
  "statementTimeout",
  "statementTimeoutSlackMs",
];

/**
 * @internal Fills in defaults and checks every option; throws a TypeError or RangeError that names
 * `fn`, the option and the value, and refuses an option it does not know.
 */
export function pgOptions(given: PgOptions | undefined, fn: string): ResolvedPgOptions {
  if (given === undefined) return DEFAULT_PG_OPTIONS;
  return readPgOptions(readOptions(given, fn, PG_OPTION_KEYS));
}

/** @internal {@link pgOptions} from options already read (by an API with options of its own). */
export function readPgOptions(o: OptionsReader<PgOptions>): ResolvedPgOptions {
  const d = DEFAULT_PG_OPTIONS;
  return {
    cancelTimeoutMs: o.ms("cancelTimeoutMs", d.cancelTimeoutMs, PG_OPTION_LIMITS.cancelTimeoutMs),
    statementTimeout: o.boolean("statementTimeout", d.statementTimeout),
    statementTimeoutSlackMs: o.ms(
      "statementTimeoutSlackMs",
      d.statementTimeoutSlackMs,
      PG_OPTION_LIMITS.statementTimeoutSlackMs,
    ),
  };
}
